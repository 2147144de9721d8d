import NIOCore

/// The session saves, releases and discards of one event loop's sockets, sent to the recovery
/// store together, once per turn of the loop.
///
/// A socket saves its session when it connects and releases it when it goes. One task and one
/// store round trip for each made a reconnecting client cost its gateway ~100 µs more than with
/// recovery off (`benchmarks/connect-cpu`), and in a reconnect storm a loop takes tens of
/// CONNECTs a turn: batched, they share one task and one pipelined round trip.
///
/// Order per socket is the caller's (`SessionState`): a socket has at most one save in flight and
/// sends its next save, or its end, only once `done` has run. Lives on its event loop.
final class SessionWrites {
    private let eventLoop: any EventLoop
    private let recovery: any ConnectionRecovery
    private var saves: [(session: SessionState, socket: SocketIOSocket)] = []
    private var released: [String] = []
    private var discarded: [String] = []
    private var scheduled = false

    init(eventLoop: any EventLoop, recovery: any ConnectionRecovery) {
        self.eventLoop = eventLoop
        self.recovery = recovery
    }

    /// Saves `session` with this turn's others, as it stands when the batch goes (its
    /// `snapshotToSave`); its `didSave` runs on the loop once the store answered (or failed: a
    /// session that could not be saved is simply not recoverable).
    func save(_ session: SessionState, of socket: SocketIOSocket) {
        saves.append((session, socket))
        schedule()
    }

    func release(_ pid: String) {
        released.append(pid)
        schedule()
    }

    func discard(_ pid: String) {
        discarded.append(pid)
        schedule()
    }

    private func schedule() {
        guard !scheduled else { return }
        scheduled = true
        eventLoop.assumeIsolated().execute { [self] in flush() }
    }

    private func flush() {
        scheduled = false
        let recovery = self.recovery, released = self.released, discarded = self.discarded
        let pending = self.saves
        let saves = pending.compactMap { $0.session.snapshotToSave(of: $0.socket) }
        self.saves = []
        self.released = []
        self.discarded = []
        eventLoop.makeFutureWithTask {
            if !saves.isEmpty { try? await recovery.save(saves) }
            if !released.isEmpty { try? await recovery.release(pids: released) }
            if !discarded.isEmpty { try? await recovery.discard(pids: discarded) }
        }.assumeIsolated().whenComplete { _ in
            for (session, socket) in pending { session.didSave(of: socket) }
        }
    }
}
