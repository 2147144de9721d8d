import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import PointsLedger
import SocketIO
import Testing
import Vocabulary

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

/// Records what it is given, with a synchronous form, as `herald serve`'s in-process broadcaster.
final class ImmediateKeeper: Broadcaster, ImmediateBroadcaster {
    private let state = NIOLockedValueBox((events: [String](), immediateCalls: 0))
    var events: [String] { state.withLockedValue { $0.events } }
    var immediateCalls: Int { state.withLockedValue { $0.immediateCalls } }

    func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        keep(packet)
    }

    var immediate: (any ImmediateBroadcaster)? { self }

    func broadcastNow(_ batch: [Broadcast]) {
        state.withLockedValue { $0.immediateCalls += 1 }
        for item in batch { keep(item.packet) }
    }

    private func keep(_ packet: SocketIOPacket) {
        let amount = packet.eventArguments.first?["amount"].map { "\($0)" } ?? "?"
        state.withLockedValue { $0.events.append("\(packet.eventName ?? "?"):\(amount)") }
    }
}

/// A ledger whose outbox always reads empty (everything else is `inner`'s).
struct BlindOutbox: Ledger {
    let inner: any Ledger
    init(_ inner: any Ledger) { self.inner = inner }

    func apply(
        _ write: LedgerWrite, idempotency: IdempotencyKey?, render: @escaping @Sendable (LedgerOutcome) -> StoredResponse
    ) async throws -> LedgerReply {
        try await inner.apply(write, idempotency: idempotency, render: render)
    }
    func balance(guestId: String) async throws -> Int64 { try await inner.balance(guestId: guestId) }
    func transactions(guestId: String, limit: Int, before: Int64?) async throws -> TransactionPage {
        try await inner.transactions(guestId: guestId, limit: limit, before: before)
    }
    func pendingEvents(limit: Int) async throws -> [OutboxEvent] { [] }
    func markPublished(_ seqs: [Int64]) async throws { try await inner.markPublished(seqs) }
    var commits: CommitFeed { inner.commits }
    func isReachable() async -> Bool { await inner.isReachable() }
}

@Suite struct OutboxRelayTests {
    func ledgerWithEvents(_ count: Int) async throws -> SQLiteLedger {
        let ledger = try SQLiteLedger(path: TestPaths.temporaryFile("relay.sqlite"))
        try await addPoints(count, to: ledger)
        return ledger
    }

    /// Commits `count` additions of 1, 2, ... points.
    func addPoints(_ count: Int, to ledger: any Ledger) async throws {
        for amount in 1...count {
            _ = try await ledger.apply(
                .addPoints(PointsChange(guestId: "g", restaurantId: "r", amount: Int64(amount), description: "")),
                idempotency: nil, render: { _ in StoredResponse(status: 201, body: "") })
        }
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

    /// Waits (at most 10 s) until `condition` holds.
    func eventually(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Events handed over at commit go out in commit order, each once, and are marked published
    /// afterwards; the relay's next reads of the outbox (one a second) send none of them again.
    @Test func handedOverEventsGoOutOnceAndAreMarked() async throws {
        let ledger = try SQLiteLedger(path: TestPaths.temporaryFile("relay.sqlite"))
        let broadcaster = FlakyBroadcaster(failures: 0)
        // The relay never sees a row in the outbox: what it sends, it was handed.
        let relay = OutboxRelay(ledger: BlindOutbox(ledger), broadcaster: broadcaster, logger: Logger(label: "test"))
        let running = Task { try await relay.run() }
        defer { running.cancel() }
        try await addPoints(20, to: ledger)
        try await eventually { try await ledger.pendingEvents(limit: 50).isEmpty && broadcaster.events.count == 20 }
        try await Task.sleep(for: .milliseconds(1200))
        #expect(broadcaster.events == (1...20).map { "points_added:number(\(Double($0)))" })
        #expect(try await ledger.pendingEvents(limit: 50).isEmpty)
    }

    /// A row both handed over and read from the outbox (its commit raced the read) goes out once.
    @Test func aRowSeenBothWaysGoesOutOnce() async throws {
        let ledger = try await ledgerWithEvents(3)
        let broadcaster = FlakyBroadcaster(failures: 0)
        let relay = OutboxRelay(ledger: ledger, broadcaster: broadcaster, logger: Logger(label: "test"))
        let pending = try await ledger.pendingEvents(limit: 10)
        #expect(try await relay.publishPending() == 3)
        relay.handOver(pending)
        let running = Task { try await relay.run() }
        defer { running.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(broadcaster.events == (1...3).map { "points_added:number(\(Double($0)))" })
    }

    /// A failing broadcaster holds handed-over events back; once it answers they go out in
    /// commit order, once each.
    @Test func handedOverEventsSurviveFailures() async throws {
        let ledger = try SQLiteLedger(path: TestPaths.temporaryFile("relay.sqlite"))
        let broadcaster = FlakyBroadcaster(failures: 2)
        let relay = OutboxRelay(ledger: ledger, broadcaster: broadcaster, logger: Logger(label: "test"))
        let running = Task { try await relay.run() }
        defer { running.cancel() }
        try await addPoints(5, to: ledger)
        try await eventually { try await ledger.pendingEvents(limit: 10).isEmpty && broadcaster.events.count >= 5 }
        #expect(broadcaster.events == (1...5).map { "points_added:number(\(Double($0)))" })
    }

    /// With a broadcaster that can deliver synchronously, a caught-up relay publishes each
    /// commit's events on the committing thread: they are out when the write returns, in
    /// commit order, once each, and marked published afterwards.
    @Test func handOversGoOutAtCommitWhenTheBroadcasterIsImmediate() async throws {
        let ledger = try await ledgerWithEvents(2)
        let broadcaster = ImmediateKeeper()
        let relay = OutboxRelay(ledger: ledger, broadcaster: broadcaster, logger: Logger(label: "test"))
        let running = Task { try await relay.run() }
        defer { running.cancel() }
        // The backlog first, through the relay's task; then it is caught up.
        try await eventually { broadcaster.events.count == 2 }
        try await Task.sleep(for: .milliseconds(100))
        for amount in 3...12 {
            _ = try await ledger.apply(
                .addPoints(PointsChange(guestId: "g", restaurantId: "r", amount: Int64(amount), description: "")),
                idempotency: nil, render: { _ in StoredResponse(status: 201, body: "") })
            #expect(broadcaster.events.count == amount, "out before the write returned")
        }
        #expect(broadcaster.immediateCalls == 10)
        try await eventually { try await ledger.pendingEvents(limit: 50).isEmpty }
        try await Task.sleep(for: .milliseconds(1200))
        #expect(broadcaster.events == (1...12).map { "points_added:number(\(Double($0)))" })
        #expect(try await ledger.pendingEvents(limit: 50).isEmpty)
    }

    /// A row being published by one path (claimed) is skipped by the other until it is
    /// published, or released when it did not go out.
    @Test func claimedRowsGoOutOnce() async throws {
        let rows = try await ledgerWithEvents(3).pendingEvents(limit: 10)
        #expect(rows.map(\.seq) == [1, 2, 3])
        func event(_ seq: Int64) -> OutboxEvent { rows[Int(seq) - 1] }
        var window = PublishedWindow()
        #expect(window.claim([event(1), event(2)]).map(\.seq) == [1, 2])
        #expect(window.claim([event(1), event(2), event(3)]).map(\.seq) == [3], "being published elsewhere")
        window.published([1])
        window.released([2])
        #expect(window.claim([event(1), event(2)]).map(\.seq) == [2], "1 went out, 2 did not")
        #expect(window.takeToMark() == [1])
    }

    @Test func theWindowRemembersWhatWentOut() {
        #expect(PublishedWindow.capacity > 10_000)
        var window = PublishedWindow()
        for seq in [3, 1, 2] as [Int64] { window.insert(seq) }
        #expect(window.contains(2) && !window.contains(4))
        let taken = window.takeToMark()
        #expect(taken == [3, 1, 2])
        window.marked(taken)
        #expect(window.contains(1))
    }

    /// A backlog of more than two batches (a relay that was down) goes out whole, in commit
    /// order, once each.
    @Test func aBacklogGoesOutWholeAndInOrder() async throws {
        let ledger = try await ledgerWithEvents(1_200)
        let broadcaster = FlakyBroadcaster(failures: 0)
        let relay = OutboxRelay(ledger: ledger, broadcaster: broadcaster, logger: Logger(label: "test"))
        let running = Task { try await relay.run() }
        defer { running.cancel() }
        try await eventually { try await ledger.pendingEvents(limit: 10).isEmpty && broadcaster.events.count >= 1_200 }
        #expect(broadcaster.events == (1...1_200).map { "points_added:number(\(Double($0)))" })
    }
}
