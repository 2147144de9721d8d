import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import PointsLedger
import SocketIO
import Testing

@testable import PointsAPI

/// A broadcaster that fails its first `failures` calls, then records what it is given.
final class FlakyBroadcaster: Broadcaster {
    private let state: NIOLockedValueBox<(failuresLeft: Int, events: [String])>

    init(failures: Int) {
        state = NIOLockedValueBox((failures, []))
    }

    var events: [String] { state.withLockedValue { $0.events } }

    func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        try state.withLockedValue { state in
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                throw CancellationError()
            }
            let amount = packet.eventArguments.first?["amount"].map { "\($0)" } ?? "?"
            state.events.append("\(packet.eventName ?? "?"):\(amount)")
        }
    }
}

@Suite struct OutboxRelayTests {
    func ledgerWithEvents(_ count: Int) async throws -> SQLiteLedger {
        let ledger = try SQLiteLedger(path: TestPaths.temporaryFile("relay.sqlite"))
        for amount in 1...count {
            _ = try await ledger.apply(
                .addPoints(PointsChange(guestId: "g", restaurantId: "r", amount: Int64(amount), description: "")),
                idempotency: nil, render: { _ in StoredResponse(status: 201, body: "") })
        }
        return ledger
    }

    /// A failure stops the batch where it failed; the next pass resumes there, in commit order, once each.
    @Test func failuresKeepOrderAndLoseNothing() async throws {
        let ledger = try await ledgerWithEvents(5)
        let broadcaster = FlakyBroadcaster(failures: 1)
        let relay = OutboxRelay(ledger: ledger, broadcaster: broadcaster, logger: Logger(label: "test"))
        await #expect(throws: CancellationError.self) { try await relay.publishPending() }
        #expect(try await ledger.pendingEvents(limit: 10).count == 5)
        #expect(try await relay.publishPending() == 5)
        #expect(broadcaster.events == (1...5).map { "points_added:number(\(Double($0)))" })
        #expect(try await ledger.pendingEvents(limit: 10).isEmpty)
        #expect(try await relay.publishPending() == 0)
    }

    /// The service retries with backoff by itself until the broadcaster answers.
    @Test func runRetriesUntilPublished() async throws {
        let ledger = try await ledgerWithEvents(3)
        let broadcaster = FlakyBroadcaster(failures: 3)
        let relay = OutboxRelay(ledger: ledger, broadcaster: broadcaster, logger: Logger(label: "test"))
        let running = Task { try await relay.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        // Published, then marked published: wait for both (the mark follows the broadcast).
        while ContinuousClock.now < deadline {
            if broadcaster.events.count >= 3, try await ledger.pendingEvents(limit: 10).isEmpty { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        running.cancel()
        #expect(broadcaster.events.count == 3)
        #expect(try await ledger.pendingEvents(limit: 10).isEmpty)
    }
}
