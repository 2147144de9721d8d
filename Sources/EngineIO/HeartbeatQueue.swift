import NIOCore

/// The heartbeat timers of the Engine.IO sessions of one event loop: two queues and one
/// scheduled task, instead of a scheduled task per session.
///
/// A task per session kept a promise, its future and an entry of the loop's scheduled-task heap
/// alive for every idle connection, about 270 bytes of each (heaptrack). Here a session waits as
/// a 32-byte entry. Every session of a server pings `pingInterval` after it opened or was last
/// answered and times out `pingTimeout` after its ping, so each queue's deadlines come in the
/// order they are added (the loop's clock only goes forward), and only the first entry of each
/// needs a timer. An entry that no longer holds (the session was answered, closed, or pinged
/// again since) is dropped when it comes due; it keeps its session for at most the interval.
///
/// It also keeps the server's configuration for its sessions, which each kept a copy of before.
/// Bound to its event loop, like the sessions it serves.
final class HeartbeatQueue {
    enum Kind {
        /// Time to send a ping.
        case ping
        /// The ping was sent this long ago; no pong means the session is gone.
        case timeout
    }

    struct Entry {
        let deadline: NIODeadline
        let socket: EngineSocket
        /// The session's heartbeat the entry was made for: a later one makes it stale.
        let beat: UInt32
    }

    let eventLoop: any EventLoop
    let configuration: EngineConfiguration
    private var pings = CircularBuffer<Entry>()
    private var timeouts = CircularBuffer<Entry>()
    private var timer: (deadline: NIODeadline, task: Scheduled<Void>)?

    init(eventLoop: any EventLoop, configuration: EngineConfiguration) {
        self.eventLoop = eventLoop
        self.configuration = configuration
    }

    /// Entries waiting, stale ones included (for tests).
    var count: Int { pings.count + timeouts.count }

    func schedule(_ kind: Kind, for socket: EngineSocket, beat: UInt32, at deadline: NIODeadline) {
        let entry = Entry(deadline: deadline, socket: socket, beat: beat)
        switch kind {
        case .ping: Self.insert(entry, into: &pings)
        case .timeout: Self.insert(entry, into: &timeouts)
        }
        arm()
    }

    /// At the back, where deadlines arrive; walks forward only if a server mixed intervals.
    ///
    /// `append` for the back: `CircularBuffer.insert(_:at:)` goes through `replaceSubrange`,
    /// which copied the whole queue even at its end, so each connect and each pong cost O(n) on
    /// a loop of n sessions (23 % of a gateway's CPU while 6,000 clients connected, perf).
    static func insert(_ entry: Entry, into queue: inout CircularBuffer<Entry>) {
        guard let last = queue.last, last.deadline > entry.deadline else { return queue.append(entry) }
        var index = queue.endIndex
        while index > queue.startIndex {
            let before = queue.index(before: index)
            if queue[before].deadline <= entry.deadline { break }
            index = before
        }
        queue.insert(entry, at: index)
    }

    /// Keeps one timer, at the earliest deadline of the two queues.
    private func arm() {
        let next: NIODeadline
        switch (pings.first?.deadline, timeouts.first?.deadline) {
        case (nil, nil): return
        case (let ping?, nil): next = ping
        case (nil, let timeout?): next = timeout
        case (let ping?, let timeout?): next = min(ping, timeout)
        }
        if let timer {
            if timer.deadline <= next { return }
            timer.task.cancel()
        }
        let task = eventLoop.assumeIsolated().scheduleTask(deadline: next) { [self] in fire() }
        timer = (next, task)
    }

    private func fire() {
        timer = nil
        let now = eventLoop.now
        while let first = pings.first, first.deadline <= now {
            pings.removeFirst()
            first.socket.heartbeatDue(.ping, beat: first.beat)
        }
        while let first = timeouts.first, first.deadline <= now {
            timeouts.removeFirst()
            first.socket.heartbeatDue(.timeout, beat: first.beat)
        }
        arm()
    }
}
