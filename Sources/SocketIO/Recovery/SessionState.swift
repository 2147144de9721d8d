import EngineIO
import NIOCore

/// What a socket keeps for its recovery (SPEC section 4.1), when recovery is on: its pid, the
/// offset each of its rooms was joined at, and its saves, made one at a time and in order.
///
/// Lives on the socket's event loop, like the socket; nil on a socket when recovery is off.
final class SessionState {
    let pid: String
    let owner: String
    let recovery: any ConnectionRecovery
    /// Where this loop's sessions are saved and ended, a turn of the loop at a time.
    private let writes: SessionWrites
    /// In join order. An array, not a dictionary: a socket is in two or three rooms, and a
    /// dictionary of them took twice the bytes of each idle connection (heaptrack).
    private(set) var joinOffsets: [(room: String, offset: RecoveryOffset)] = []
    /// Live broadcasts held back while the missed events are replayed, with their offsets.
    var held: [(message: PreparedMessage, offset: RecoveryOffset?)]?
    /// After a replay, the last offset the client had: live events up to it are not sent again.
    var replayedThrough: RecoveryOffset?
    private var saving = false
    /// A save is scheduled or in flight (for tests).
    var isSaving: Bool { saving }
    private var dirty = false
    /// What to do with the stored session once the save in flight is done.
    private var ending: Ending?

    enum Ending {
        /// The connection was lost: the session may be restored for the window.
        case release
        /// The client or the server ended the session on purpose: nothing to restore.
        case discard
    }

    init(pid: String, owner: String, recovery: any ConnectionRecovery, writes: SessionWrites) {
        self.pid = pid
        self.owner = owner
        self.recovery = recovery
        self.writes = writes
    }

    /// Saves the session soon: changes made in one turn of the loop (the automatic rooms of a
    /// new socket) go in one save, since `writes` takes the snapshot when its turn's batch goes,
    /// and saves never overtake each other.
    func scheduleSave(of socket: SocketIOSocket) {
        guard recovery.savesConnectedSessions else { return }
        dirty = true
        guard !saving, ending == nil else { return }
        saving = true
        writes.save(self, of: socket)
    }

    /// What `writes` saves of this session now; nil when it ended meanwhile.
    func snapshotToSave(of socket: SocketIOSocket) -> RecoverableSession? {
        guard ending == nil else { return nil }
        dirty = false
        return snapshot(of: socket)
    }

    /// The store has (or failed) the save: a change since goes in the next one, or the end now.
    func didSave(of socket: SocketIOSocket) {
        if dirty, ending == nil {
            writes.save(self, of: socket)
        } else {
            finish()
        }
    }

    func snapshot(of socket: SocketIOSocket) -> RecoverableSession {
        var rooms: [String: RecoveryOffset] = [:]
        for (room, offset) in joinOffsets { rooms[room] = offset }
        return RecoverableSession(pid: pid, sid: socket.id, owner: owner, rooms: rooms)
    }

    /// Records the offset `room` was joined at; a room already joined keeps its first one.
    func joined(_ room: String, at offset: RecoveryOffset) {
        guard !joinOffsets.contains(where: { $0.room == room }) else { return }
        joinOffsets.append((room, offset))
    }

    func left(_ room: String) {
        joinOffsets.removeAll { $0.room == room }
    }

    /// The socket went; the stored session is released or discarded after any save in flight.
    /// A store that keeps no connected sessions is given this one now, if it may come back.
    func end(_ how: Ending, of socket: SocketIOSocket) {
        guard ending == nil else { return }
        ending = how
        if how == .release, !recovery.savesConnectedSessions {
            let recovery = self.recovery, pid = self.pid, session = snapshot(of: socket)
            Task {
                try? await recovery.save([session])
                try? await recovery.release(pid: pid)
            }
            return
        }
        if !saving { finish() }
    }

    private func finish() {
        saving = false
        switch ending {
        case .release?: writes.release(pid)
        case .discard?: writes.discard(pid)
        case nil: break
        }
    }
}
