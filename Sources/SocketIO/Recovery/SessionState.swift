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
    var joinOffsets: [String: RecoveryOffset] = [:]
    /// Live broadcasts held back while the missed events are replayed, with their offsets.
    var held: [(message: PreparedMessage, offset: RecoveryOffset?)]?
    private var saving = false
    private var dirty = false
    /// What to do with the stored session once the save in flight is done.
    private var ending: Ending?

    enum Ending {
        /// The connection was lost: the session may be restored for the window.
        case release
        /// The client or the server ended the session on purpose: nothing to restore.
        case discard
    }

    init(pid: String, owner: String, recovery: any ConnectionRecovery) {
        self.pid = pid
        self.owner = owner
        self.recovery = recovery
    }

    /// Saves the session soon: changes made in one turn of the loop (the automatic rooms of a
    /// new socket) go in one save, and saves never overtake each other.
    func scheduleSave(of socket: SocketIOSocket) {
        dirty = true
        guard !saving, ending == nil else { return }
        saving = true
        socket.eventLoop.assumeIsolated().execute { [self] in save(socket) }
    }

    private func save(_ socket: SocketIOSocket) {
        guard ending == nil else { return finish() }
        dirty = false
        let session = snapshot(of: socket)
        let recovery = self.recovery
        socket.eventLoop.makeFutureWithTask {
            try await recovery.save([session])
        }.assumeIsolated().whenComplete { [self] _ in
            if dirty, ending == nil {
                save(socket)
            } else {
                finish()
            }
        }
    }

    func snapshot(of socket: SocketIOSocket) -> RecoverableSession {
        RecoverableSession(pid: pid, sid: socket.id, owner: owner, rooms: joinOffsets)
    }

    /// The socket went; the stored session is released or discarded after any save in flight.
    func end(_ how: Ending) {
        guard ending == nil else { return }
        ending = how
        if !saving { finish() }
    }

    private func finish() {
        saving = false
        guard let ending else { return }
        let recovery = self.recovery, pid = self.pid
        Task {
            switch ending {
            case .release: try? await recovery.release(pid: pid)
            case .discard: try? await recovery.discard(pid: pid)
            }
        }
    }
}
