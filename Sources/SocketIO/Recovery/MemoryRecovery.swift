import DequeModule
import NIOConcurrencyHelpers
import Vocabulary

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connection state recovery in one process (`herald serve`): sessions and per-room event logs
/// in memory, with the bounds the Redis store has, and the one place that gives out offsets.
///
/// `LocalAdapter.broadcast` hands each recoverable event to `record`, which assigns its offset,
/// logs it and delivers it under one lock, so that the order of offsets is the order in which
/// every socket is written to.
public final class MemoryRecovery: ConnectionRecovery {
    public let limits: RecoveryLimits
    public var window: Duration { limits.window }
    /// Only sessions whose socket went are kept, as Node's in-memory adapter keeps them: a live
    /// copy of each connected socket's session would be lost with the process anyway.
    public var savesConnectedSessions: Bool { false }
    private let state = NIOLockedValueBox(State())
    private let now: @Sendable () -> UInt64

    struct State {
        var last = RecoveryOffset.zero
        var logs: [String: RoomLog] = [:]
        /// Sessions by pid; a released one has the time (ms) it expires at.
        var sessions: [String: (session: RecoverableSession, expiresAt: UInt64?)] = [:]
        var lastSweep: UInt64 = 0
    }

    struct RoomLog {
        var events = Deque<(offset: RecoveryOffset, at: UInt64, data: String)>()
        /// The newest offset trimmed away for the count bound: a client behind it missed an
        /// event that is gone. (Age trimming needs no mark: see `RecoveryLimits.retention`.)
        var trimmedThrough = RecoveryOffset.zero
        var lastWrite: UInt64 = 0
    }

    /// `now` is milliseconds since the epoch (tests pass their own clock).
    public init(limits: RecoveryLimits = RecoveryLimits(), now: @escaping @Sendable () -> UInt64 = MemoryRecovery.wallClock) {
        self.limits = limits
        self.now = now
    }

    public static func wallClock() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) * 1_000 + UInt64(time.tv_nsec) / 1_000_000
    }

    private var retentionMilliseconds: UInt64 { UInt64(limits.retention.components.seconds) * 1_000 }
    private var windowMilliseconds: UInt64 { UInt64(limits.window.components.seconds) * 1_000 }

    /// Gives `packet` (a recoverable broadcast to `rooms`) the next offset, logs it in each room,
    /// and calls `deliver` with the offset before another event can take the next one.
    public func record(_ packet: SocketIOPacket, rooms: Set<String>, deliver: (RecoveryOffset) -> Void) {
        let data = packet.data?.jsonString ?? "[]"
        let now = self.now()
        let limits = self.limits, retention = retentionMilliseconds
        state.withLockedValue { state in
            let offset = state.last.next(now: now)
            state.last = offset
            for room in rooms {
                var log = state.logs.removeValue(forKey: room) ?? RoomLog()
                log.events.append((offset, now, data))
                while log.events.count > limits.eventsPerRoom, let first = log.events.popFirst() {
                    log.trimmedThrough = first.offset
                }
                while let first = log.events.first, first.at + retention < now { log.events.removeFirst() }
                log.lastWrite = now
                state.logs[room] = log
            }
            Self.sweep(&state, now: now, retention: retention)
            deliver(offset)
        }
    }

    /// At most once a second: drops the logs of rooms quiet for longer than the retention and
    /// the sessions whose window has passed, so memory follows the bounds.
    private static func sweep(_ state: inout State, now: UInt64, retention: UInt64) {
        guard now >= state.lastSweep + 1_000 else { return }
        state.lastSweep = now
        state.logs = state.logs.filter { $0.value.lastWrite + retention >= now }
        state.sessions = state.sessions.filter { entry in entry.value.expiresAt.map { $0 > now } ?? true }
    }

    public func highWaterMark() -> RecoveryOffset {
        state.withLockedValue { $0.last }
    }

    public func save(_ sessions: [RecoverableSession]) async throws {
        state.withLockedValue { state in
            for session in sessions { state.sessions[session.pid] = (session, nil) }
        }
    }

    public func release(pid: String) async throws {
        let expiresAt = now() + windowMilliseconds
        state.withLockedValue { state in
            state.sessions[pid]?.expiresAt = expiresAt
        }
    }

    public func discard(pid: String) async throws {
        _ = state.withLockedValue { $0.sessions.removeValue(forKey: pid) }
    }

    public func restore(pid: String) async throws -> RecoverableSession? {
        let now = self.now()
        return state.withLockedValue { state in
            guard let entry = state.sessions[pid] else { return nil }
            if let expiresAt = entry.expiresAt, expiresAt <= now {
                state.sessions[pid] = nil
                return nil
            }
            return entry.session
        }
    }

    public func missedEvents(after offsets: [String: RecoveryOffset]) async throws -> [LoggedEvent]? {
        state.withLockedValue { state in
            var found: [RecoveryOffset: String] = [:]
            for (room, after) in offsets {
                guard let log = state.logs[room] else { continue }
                guard log.trimmedThrough <= after else { return nil }
                for event in log.events.reversed() {
                    guard event.offset > after else { break }
                    found[event.offset] = event.data
                }
            }
            return found.sorted { $0.key < $1.key }.map { LoggedEvent(offset: $0.key, data: $0.value) }
        }
    }

    /// The number of sessions and logged events held (tests and metrics).
    public var counts: (sessions: Int, events: Int) {
        state.withLockedValue { state in (state.sessions.count, state.logs.values.reduce(0) { $0 + $1.events.count }) }
    }
}
