import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import SocketIO

/// A loop's session writes of one turn reach the store together, and each save's `done` runs on
/// the loop after the store has it.
@Suite struct SessionWritesTests {
    /// The memory store, counting the calls it gets.
    final class CountingRecovery: ConnectionRecovery {
        let store = MemoryRecovery()
        let calls = NIOLockedValueBox<[String]>([])
        var window: Duration { store.window }
        var savesConnectedSessions: Bool { true }
        func highWaterMark() -> RecoveryOffset { store.highWaterMark() }
        func save(_ sessions: [RecoverableSession]) async throws {
            calls.withLockedValue { $0.append("save \(sessions.count)") }
            try await store.save(sessions)
        }
        func release(pid: String) async throws { try await release(pids: [pid]) }
        func discard(pid: String) async throws { try await discard(pids: [pid]) }
        func release(pids: [String]) async throws {
            calls.withLockedValue { $0.append("release \(pids.count)") }
            for pid in pids { try await store.release(pid: pid) }
        }
        func discard(pids: [String]) async throws {
            calls.withLockedValue { $0.append("discard \(pids.count)") }
            for pid in pids { try await store.discard(pid: pid) }
        }
        func restore(pid: String) async throws -> RecoverableSession? { try await store.restore(pid: pid) }
        func missedEvents(after offsets: [String: RecoveryOffset]) async throws -> [LoggedEvent]? {
            try await store.missedEvents(after: offsets)
        }
    }

    @Test func oneTurnsWritesGoTogether() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let recovery = CountingRecovery()
        let pid = "p-\(UInt32.random(in: 0 ... .max))"
        let saved = try await loop.submit {
            let writes = SessionWrites(eventLoop: loop, recovery: recovery)
            let done = NIOLoopBoundBox(0, eventLoop: loop)
            let promise = loop.makePromise(of: Int.self)
            for n in 0..<5 {
                writes.save(RecoverableSession(pid: "\(pid)-\(n)", sid: "s\(n)", owner: "o", rooms: [:])) {
                    done.value += 1
                    if done.value == 5 { promise.succeed(done.value) }
                }
            }
            writes.release("\(pid)-old-1")
            writes.release("\(pid)-old-2")
            writes.discard("\(pid)-gone")
            return promise.futureResult
        }.flatMap { $0 }.get()
        #expect(saved == 5)
        #expect(recovery.calls.withLockedValue { $0 } == ["save 5", "release 2", "discard 1"])
        #expect(try await recovery.restore(pid: "\(pid)-3")?.sid == "s3")
    }
}
