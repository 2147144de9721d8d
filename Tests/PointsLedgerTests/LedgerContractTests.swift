import Foundation
import HeraldTesting
import Logging
import PointsLedger
import Testing
import Vocabulary

/// The ledger's contract, run against both implementations on real databases: a SQLite file and
/// a throwaway PostgreSQL server.
enum Backend: String, CaseIterable, Sendable {
    case sqlite
    case postgres

    func withLedger(_ body: (any Ledger) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            try await body(try SQLiteLedger(path: TestPaths.temporaryFile("ledger.sqlite")))
        case .postgres:
            let server = try await PostgresServer.start()
            do {
                try await body(try await PostgresLedger.connect(url: server.url, logger: Logger(label: "test")))
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
        }
    }
}

/// Renders outcomes the way a test can read back.
@Sendable func render(_ outcome: LedgerOutcome) -> StoredResponse {
    switch outcome {
    case .points(let transaction, let balance): StoredResponse(status: 201, body: "\(transaction.id) \(balance)")
    case .cardCreated(let cardId, _, _, _): StoredResponse(status: 201, body: cardId)
    case .guestRegistered(let guest, let created): StoredResponse(status: created ? 201 : 200, body: guest.name)
    default: StoredResponse(status: 200, body: "ok")
    }
}

func change(_ guest: String, _ amount: Int64, restaurant: String = "r1") -> PointsChange {
    PointsChange(guestId: guest, restaurantId: restaurant, amount: amount, description: "test")
}

@Suite struct LedgerContractTests {
    @Test(arguments: Backend.allCases)
    func addRedeemAndBalance(_ backend: Backend) async throws {
        try await backend.withLedger { ledger in
            await #expect(throws: LedgerError.notFound) { try await ledger.balance(guestId: "g") }
            _ = try await ledger.apply(.addPoints(change("g", 100)), idempotency: nil, render: render)
            guard case .fresh(_, .points(let redeemed, 70)) = try await ledger.apply(
                .redeemPoints(change("g", 30)), idempotency: nil, render: render)
            else { Issue.record("redeem did not answer a balance of 70"); return }
            #expect(redeemed.type == .redeem && redeemed.amount == 30 && redeemed.balanceAfter == 70)
            #expect(try await ledger.balance(guestId: "g") == 70)
            await #expect(throws: LedgerError.insufficientPoints(balance: 70)) {
                try await ledger.apply(.redeemPoints(change("g", 71)), idempotency: nil, render: render)
            }
            await #expect(throws: LedgerError.notFound) {
                try await ledger.apply(.redeemPoints(change("nobody", 1)), idempotency: nil, render: render)
            }
            #expect(try await ledger.balance(guestId: "g") == 70)
        }
    }

    /// SPEC 5: the balance never goes negative under concurrency; exactly the right number succeed.
    @Test(arguments: Backend.allCases)
    func concurrentRedeems(_ backend: Backend) async throws {
        try await backend.withLedger { ledger in
            _ = try await ledger.apply(.addPoints(change("g", 100)), idempotency: nil, render: render)
            let successes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        (try? await ledger.apply(.redeemPoints(change("g", 7)), idempotency: nil, render: render)) != nil
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(successes == 14)
            #expect(try await ledger.balance(guestId: "g") == 2)
            let page = try await ledger.transactions(guestId: "g", limit: 200, before: nil)
            #expect(page.transactions.count == 15)
        }
    }

    /// Writes for one guest take their turns, from the first (which creates the guest): no add is
    /// lost, and of many cards made at once for one guest and restaurant exactly one is made.
    @Test(arguments: Backend.allCases)
    func concurrentWritesForANewGuest(_ backend: Backend) async throws {
        try await backend.withLedger { ledger in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<30 {
                    group.addTask { _ = try? await ledger.apply(.addPoints(change("new", 3)), idempotency: nil, render: render) }
                }
            }
            let balance = try await ledger.balance(guestId: "new")
            #expect(balance == 90)
            let cards = await withTaskGroup(of: Result<Void, LedgerError>.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        do {
                            _ = try await ledger.apply(.createCard(guestId: "fresh", restaurantId: "r1"), idempotency: nil, render: render)
                            return .success(())
                        } catch let error as LedgerError {
                            return .failure(error)
                        } catch {
                            return .failure(.notFound)
                        }
                    }
                }
                return await group.reduce(into: [Result<Void, LedgerError>]()) { $0.append($1) }
            }
            #expect(cards.filter { if case .success = $0 { true } else { false } }.count == 1)
            #expect(cards.filter { if case .failure(.cardExists) = $0 { true } else { false } }.count == 9)
        }
    }

    @Test(arguments: Backend.allCases)
    func idempotencyReplaysAndRefusesAnotherRequest(_ backend: Backend) async throws {
        try await backend.withLedger { ledger in
            let key = IdempotencyKey(scope: "staff", key: "k1", fingerprint: "f1")
            let first = try await ledger.apply(.addPoints(change("g", 10)), idempotency: key, render: render)
            let again = try await ledger.apply(.addPoints(change("g", 10)), idempotency: key, render: render)
            #expect(again == .replay(first.response))
            let otherScope = IdempotencyKey(scope: "other", key: "k1", fingerprint: "f1")
            guard case .fresh = try await ledger.apply(.addPoints(change("g", 10)), idempotency: otherScope, render: render)
            else { Issue.record("a key is scoped to its caller"); return }
            await #expect(throws: LedgerError.idempotencyKeyReused) {
                try await ledger.apply(.addPoints(change("g", 11)), idempotency: IdempotencyKey(scope: "staff", key: "k1", fingerprint: "f2"), render: render)
            }
            #expect(try await ledger.balance(guestId: "g") == 20)
            #expect(try await ledger.pendingEvents(limit: 10).count == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentRetriesWithOneKeyMakeOneTransaction(_ backend: Backend) async throws {
        try await backend.withLedger { (ledger: any Ledger) async throws in
            let key = IdempotencyKey(scope: "staff", key: "same", fingerprint: "f")
            let replies = await withTaskGroup(of: LedgerReply?.self) { group in
                for _ in 0..<10 {
                    group.addTask { try? await ledger.apply(.addPoints(change("g", 5)), idempotency: key, render: render) }
                }
                return await group.reduce(into: [LedgerReply?]()) { $0.append($1) }
            }
            #expect(Set(replies.compactMap { $0?.response }).count == 1)
            #expect(try await ledger.balance(guestId: "g") == 5)
            #expect(try await ledger.pendingEvents(limit: 10).count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func cardsGuestsAndRestaurantNames(_ backend: Backend) async throws {
        try await backend.withLedger { ledger in
            guard case .fresh(_, .cardCreated(let cardId, _, _, _)) = try await ledger.apply(
                .createCard(guestId: "g", restaurantId: "r1"), idempotency: nil, render: render)
            else { Issue.record("no card"); return }
            await #expect(throws: LedgerError.cardExists) {
                try await ledger.apply(.createCard(guestId: "g", restaurantId: "r1"), idempotency: nil, render: render)
            }
            _ = try await ledger.apply(.nameRestaurant(restaurantId: "r1", name: "Chez Test"), idempotency: nil, render: render)
            _ = try await ledger.apply(.addPoints(change("g", 3)), idempotency: nil, render: render)
            let first = try await ledger.apply(.registerGuest(guestId: "g", name: "Ann", restaurantId: "r1"), idempotency: nil, render: render)
            let second = try await ledger.apply(.registerGuest(guestId: "g", name: "Anna", restaurantId: "r1"), idempotency: nil, render: render)
            #expect(first.response == StoredResponse(status: 201, body: "Ann"))
            #expect(second.response == StoredResponse(status: 200, body: "Anna"))
            let events = try await ledger.pendingEvents(limit: 10)
            #expect(events.map(\.event) == ["card_created", "points_added", "guest_registered"])
            let points = try #require(JSONSerialization.jsonObject(with: Data(events[1].payload.jsonString.utf8)) as? [String: Any])
            #expect(points["cardId"] as? String == cardId)
            #expect(points["restaurantName"] as? String == "Chez Test")
            #expect(points["eventId"] as? String == events[1].eventId)
            #expect(events[1].rooms == ["guest:g", "restaurant:r1"])
            #expect(events[2].rooms == ["restaurant:r1"])
        }
    }

    @Test(arguments: Backend.allCases)
    func transactionsPageNewestFirst(_ backend: Backend) async throws {
        try await backend.withLedger { ledger in
            for amount in 1...5 { _ = try await ledger.apply(.addPoints(change("g", Int64(amount))), idempotency: nil, render: render) }
            let first = try await ledger.transactions(guestId: "g", limit: 2, before: nil)
            #expect(first.transactions.map(\.amount) == [5, 4])
            let second = try await ledger.transactions(guestId: "g", limit: 2, before: first.next)
            #expect(second.transactions.map(\.amount) == [3, 2])
            let last = try await ledger.transactions(guestId: "g", limit: 2, before: second.next)
            #expect(last.transactions.map(\.amount) == [1])
            #expect(last.next == nil)
            await #expect(throws: LedgerError.notFound) { try await ledger.transactions(guestId: "x", limit: 2, before: nil) }
        }
    }

    @Test(arguments: Backend.allCases)
    func outboxKeepsCommitOrderUntilPublished(_ backend: Backend) async throws {
        try await backend.withLedger { ledger in
            for amount in 1...3 { _ = try await ledger.apply(.addPoints(change("g", Int64(amount))), idempotency: nil, render: render) }
            _ = try await ledger.apply(.raiseAlert(level: "info", message: "m"), idempotency: nil, render: render)
            let pending = try await ledger.pendingEvents(limit: 10)
            #expect(pending.map(\.event) == ["points_added", "points_added", "points_added", "system_alert"])
            #expect(pending.map(\.seq) == pending.map(\.seq).sorted())
            #expect(Set(pending.map(\.eventId)).count == 4)
            try await ledger.markPublished([pending[1].seq, pending[0].seq])
            #expect(try await ledger.pendingEvents(limit: 10).map(\.seq) == pending.dropFirst(2).map(\.seq))
            #expect(await ledger.isReachable())
        }
    }

    /// Each commit hands its outbox events over, in commit order and with the `seq` the outbox
    /// gave them; a refused write hands over nothing.
    @Test(arguments: Backend.allCases)
    func commitsHandOverTheirEvents(_ backend: Backend) async throws {
        try await backend.withLedger { ledger in
            let heard = Heard()
            ledger.commits.listen { heard.append($0) }
            for amount in 1...3 { _ = try await ledger.apply(.addPoints(change("g", Int64(amount))), idempotency: nil, render: render) }
            await #expect(throws: LedgerError.self) {
                try await ledger.apply(.redeemPoints(change("g", 1_000)), idempotency: nil, render: render)
            }
            _ = try await ledger.apply(.nameRestaurant(restaurantId: "r", name: "R"), idempotency: nil, render: render)
            let pending = try await ledger.pendingEvents(limit: 10)
            #expect(heard.events == pending)
            #expect(heard.events.count == 3)
            try await ledger.markPublished(heard.events.map(\.seq))
            #expect(try await ledger.pendingEvents(limit: 10).isEmpty)
        }
    }
}

/// What a commit feed heard, from whichever thread the ledger calls it on.
final class Heard: @unchecked Sendable {
    private let lock = NSLock()
    private var heard: [OutboxEvent] = []

    var events: [OutboxEvent] { lock.withLock { heard } }

    func append(_ events: [OutboxEvent]) { lock.withLock { heard.append(contentsOf: events) } }
}
