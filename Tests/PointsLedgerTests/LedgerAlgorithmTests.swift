@testable import PointsLedger
import Testing
import Vocabulary

/// The algorithm both ledgers run, without a database: what each write reads, decides and writes.
@Suite struct LedgerAlgorithmTests {
    private let now: Int64 = 1_700_000_000_000

    @Test func addingToANewGuestCreatesItAndWritesTheTransactionAndItsEvent() throws {
        let write = LedgerWrite.addPoints(change("g1", 25))
        #expect(LedgerAlgorithm.reads(for: write) == LedgerReads(
            guest: .createIfNew("g1"), card: GuestAt(guestId: "g1", restaurantId: "r1"), restaurantName: "r1"))
        let decision = try LedgerAlgorithm.decide(
            write, facts: LedgerFacts(balance: 0, cardId: "c1", restaurantName: "Chez R"), idempotency: nil, now: now, render: render)
        guard case .points(let transaction, let balance) = decision.outcome else { Issue.record("not points"); return }
        #expect(balance == 25 && transaction.cardId == "c1" && transaction.timestamp == now)
        #expect(decision.changes == [.setBalance(guestId: "g1", 25), .insertTransaction(transaction)])
        #expect(decision.outbox?.event == "points_added")
        #expect(decision.outbox?.roomList == ["guest:g1", "restaurant:r1"])
        #expect(decision.outbox?.payload["restaurantName"] == .string("Chez R"))
    }

    @Test func redeemingRefusesAnUnknownGuestAndAShortBalance() throws {
        let write = LedgerWrite.redeemPoints(change("g1", 10))
        #expect(LedgerAlgorithm.reads(for: write).guest == .existing("g1"))
        #expect(throws: LedgerError.notFound) {
            try LedgerAlgorithm.decide(write, facts: LedgerFacts(), idempotency: nil, now: now, render: render)
        }
        #expect(throws: LedgerError.insufficientPoints(balance: 9)) {
            try LedgerAlgorithm.decide(write, facts: LedgerFacts(balance: 9), idempotency: nil, now: now, render: render)
        }
        let decision = try LedgerAlgorithm.decide(write, facts: LedgerFacts(balance: 10), idempotency: nil, now: now, render: render)
        #expect(decision.changes.first == .setBalance(guestId: "g1", 0))
    }

    @Test func aBalanceThatWouldOverflowIsRefusedNotTrapped() {
        #expect(throws: LedgerOverflow.self) {
            try LedgerAlgorithm.decide(
                .addPoints(change("g1", 1)), facts: LedgerFacts(balance: .max), idempotency: nil, now: now, render: render)
        }
    }

    @Test func aSecondCardIsRefusedAndARegistrationIsRenamedNotRepeated() throws {
        #expect(throws: LedgerError.cardExists) {
            try LedgerAlgorithm.decide(
                .createCard(guestId: "g1", restaurantId: "r1"), facts: LedgerFacts(balance: 0, cardId: "c1"),
                idempotency: nil, now: now, render: render)
        }
        let again = try LedgerAlgorithm.decide(
            .registerGuest(guestId: "g1", name: "New", restaurantId: "r1"), facts: LedgerFacts(balance: 0, registeredAt: 5),
            idempotency: nil, now: now, render: render)
        let guest = GuestRecord(guestId: "g1", name: "New", restaurantId: "r1", timestamp: 5)
        #expect(again.outcome == .guestRegistered(guest, created: false))
        #expect(again.changes == [.renameRegistration(guest)])
        #expect(again.outbox == nil)
    }

    @Test func anIdempotencyKeyStoresTheAnswerAndReplaysOnlyItsOwnRequest() throws {
        let key = IdempotencyKey(scope: "staff", key: "k", fingerprint: "f")
        let decision = try LedgerAlgorithm.decide(
            .raiseAlert(level: "info", message: "hi"), facts: LedgerFacts(), idempotency: key, now: now, render: render)
        #expect(decision.changes == [.storeResponse(key, decision.response, at: now)])
        let stored = StoredIdempotency(fingerprint: "f", response: StoredResponse(status: 202, body: "{}"))
        #expect(try LedgerAlgorithm.replay(stored, for: key) == stored.response)
        #expect(try LedgerAlgorithm.replay(nil, for: key) == nil)
        #expect(throws: LedgerError.idempotencyKeyReused) {
            try LedgerAlgorithm.replay(StoredIdempotency(fingerprint: "other", response: stored.response), for: key)
        }
    }
}
