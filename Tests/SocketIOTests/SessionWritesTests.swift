import CoreMetrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import EngineIO

@testable import SocketIO

/// A loop's session writes of one turn reach the store together, and each session hears of its save on
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

    struct TimedOut: Error {}

    @Test func oneTurnsWritesGoTogether() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let recovery = CountingRecovery()
        let pid = "p-\(UInt32.random(in: 0 ... .max))"
        let saved = try await loop.submit {
            let writes = SessionWrites(eventLoop: loop, recovery: recovery)
            let metrics = SocketIOMetrics(factory: NOOPMetricsHandler.instance)
            let sessions = (0..<5).map { n in
                let session = SessionState(pid: "\(pid)-\(n)", owner: "o", recovery: recovery, writes: writes)
                let engine = EngineSocket(
                    id: "e\(n)", eventLoop: loop, handshake: .init(), configuration: .init(), transport: SinkTransport()
                ) { _ in }
                return (session, SocketIOSocket(id: "s\(n)", engine: engine, registry: RoomRegistry(), metrics: metrics, session: session))
            }
            let promise = loop.makePromise(of: Int.self)
            // Bounded: a save that never completes fails the test instead of holding it.
            loop.scheduleTask(in: .seconds(10)) { promise.fail(TimedOut()) }
            for (session, socket) in sessions { session.scheduleSave(of: socket) }
            writes.release("\(pid)-old-1")
            writes.release("\(pid)-old-2")
            writes.discard("\(pid)-gone")
            func check() {
                let done = sessions.filter { !$0.0.isSaving }.count
                if done == sessions.count { promise.succeed(done) } else { loop.assumeIsolated().scheduleTask(in: .milliseconds(5)) { check() } }
            }
            check()
            return promise.futureResult
        }.flatMap { $0 }.get()
        #expect(saved == 5)
        #expect(recovery.calls.withLockedValue { $0 } == ["save 5", "release 2", "discard 1"])
        #expect(try await recovery.restore(pid: "\(pid)-3")?.sid == "s3")
    }
}
