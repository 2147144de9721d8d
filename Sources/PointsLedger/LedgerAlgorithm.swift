/// The one algorithm every ledger runs for a write, whatever its database.
///
/// A write is one transaction in four steps: the idempotency check (a stored answer is replayed),
/// the reads the write depends on, the decision (refuse, or the outcome and the changes it
/// makes), then the changes, the outbox row and the stored reply. Everything that makes a write
/// correct is here; a dialect (`SQLiteStatements`, `PostgresStatements`) only answers `LedgerReads`
/// and carries out `LedgerChange`s in its own SQL.
///
/// The steps are values and pure functions rather than one function over a statements protocol
/// because SQLite answers synchronously inside GRDB's writer closure and PostgreSQL answers
/// asynchronously: a step never touches the database, so both dialects drive the same steps.
enum LedgerAlgorithm {
    /// Step 1: the answer to replay for `key`, given the row stored under it (if any, younger than
    /// a day); a different request under the same key is refused.
    static func replay(_ stored: StoredIdempotency?, for key: IdempotencyKey) throws(LedgerError) -> StoredResponse? {
        guard let stored else { return nil }
        guard stored.fingerprint == key.fingerprint else { throw .idempotencyKeyReused }
        return stored.response
    }

    /// The oldest `created_at` a stored answer may have to be replayed at `now`.
    static func replayableSince(_ now: Int64) -> Int64 {
        now - IdempotencyKey.lifetimeMilliseconds
    }

    /// Step 2: what `write` reads before it decides.
    static func reads(for write: LedgerWrite) -> LedgerReads {
        switch write {
        case .addPoints(let change):
            LedgerReads(guest: .createIfNew(change.guestId), card: GuestAt(change), restaurantName: change.restaurantId)
        case .redeemPoints(let change):
            LedgerReads(guest: .existing(change.guestId), card: GuestAt(change), restaurantName: change.restaurantId)
        case .registerGuest(let guestId, _, let restaurantId):
            LedgerReads(guest: .createIfNew(guestId), registration: GuestAt(guestId: guestId, restaurantId: restaurantId))
        case .createCard(let guestId, let restaurantId):
            LedgerReads(guest: .createIfNew(guestId), card: GuestAt(guestId: guestId, restaurantId: restaurantId))
        case .nameRestaurant, .raiseAlert:
            LedgerReads()
        }
    }

    /// Step 3: the outcome of `write` given what was read, and every row it writes; or the refusal.
    static func decide(
        _ write: LedgerWrite,
        facts: LedgerFacts,
        idempotency: IdempotencyKey?,
        now: Int64,
        render: (LedgerOutcome) -> StoredResponse
    ) throws -> LedgerDecision {
        let (outcome, changes) = try change(write, facts: facts, now: now)
        let response = render(outcome)
        var all = changes
        if let idempotency { all.append(.storeResponse(idempotency, response, at: now)) }
        let outbox = OutboxPayloads.row(for: outcome, restaurantName: facts.restaurantName)
        return LedgerDecision(outcome: outcome, changes: all, outbox: outbox, response: response)
    }

    private static func change(_ write: LedgerWrite, facts: LedgerFacts, now: Int64) throws -> (LedgerOutcome, [LedgerChange]) {
        switch write {
        case .addPoints(let change):
            let (balance, overflow) = (facts.balance ?? 0).addingReportingOverflow(change.amount)
            guard !overflow else { throw LedgerOverflow() }
            return points(.add, change, balanceAfter: balance, facts: facts, now: now)
        case .redeemPoints(let change):
            guard let current = facts.balance else { throw LedgerError.notFound }
            guard current >= change.amount else { throw LedgerError.insufficientPoints(balance: current) }
            return points(.redeem, change, balanceAfter: current - change.amount, facts: facts, now: now)
        case .registerGuest(let guestId, let name, let restaurantId):
            if let registeredAt = facts.registeredAt {
                let guest = GuestRecord(guestId: guestId, name: name, restaurantId: restaurantId, timestamp: registeredAt)
                return (.guestRegistered(guest, created: false), [.renameRegistration(guest)])
            }
            let guest = GuestRecord(guestId: guestId, name: name, restaurantId: restaurantId, timestamp: now)
            return (.guestRegistered(guest, created: true), [.insertRegistration(guest)])
        case .createCard(let guestId, let restaurantId):
            guard facts.cardId == nil else { throw LedgerError.cardExists }
            let cardId = makeID()
            return (
                .cardCreated(cardId: cardId, guestId: guestId, restaurantId: restaurantId, timestamp: now),
                [.insertCard(cardId: cardId, GuestAt(guestId: guestId, restaurantId: restaurantId), createdAt: now)]
            )
        case .nameRestaurant(let restaurantId, let name):
            return (.restaurantNamed(restaurantId: restaurantId, name: name), [.nameRestaurant(restaurantId, name)])
        case .raiseAlert(let level, let message):
            return (.alertRaised(level: level, message: message, timestamp: now), [])
        }
    }

    private static func points(
        _ type: TransactionRecord.Kind, _ change: PointsChange, balanceAfter: Int64, facts: LedgerFacts, now: Int64
    ) -> (LedgerOutcome, [LedgerChange]) {
        let transaction = TransactionRecord(
            id: makeID(), type: type, guestId: change.guestId, restaurantId: change.restaurantId, cardId: facts.cardId,
            amount: change.amount, balanceAfter: balanceAfter, description: change.description, timestamp: now
        )
        return (
            .points(transaction, newBalance: balanceAfter),
            [.setBalance(guestId: change.guestId, balanceAfter), .insertTransaction(transaction)]
        )
    }
}

/// What an idempotency key has stored: the fingerprint of the request it came with and the answer.
struct StoredIdempotency: Sendable {
    var fingerprint: String
    var response: StoredResponse
}

/// A guest at a restaurant: the key of cards and registrations.
struct GuestAt: Sendable, Equatable {
    var guestId: String
    var restaurantId: String

    init(guestId: String, restaurantId: String) {
        self.guestId = guestId
        self.restaurantId = restaurantId
    }

    init(_ change: PointsChange) {
        self.init(guestId: change.guestId, restaurantId: change.restaurantId)
    }
}

/// What a write reads inside its transaction, before it decides.
struct LedgerReads: Sendable, Equatable {
    enum Guest: Sendable, Equatable {
        /// Points may be added, and cards made or guests registered, for a guest the till sees
        /// first (SPEC 5.1): created with balance 0 when new.
        case createIfNew(String)
        case existing(String)
    }

    /// The guest whose balance is read. The dialect locks the guest's row for the rest of the
    /// transaction, so that writes for one guest (its balance, cards, registrations) serialize.
    var guest: Guest?
    /// The card of a guest at a restaurant.
    var card: GuestAt?
    /// When a guest registered at a restaurant.
    var registration: GuestAt?
    /// A restaurant's display name.
    var restaurantName: String?
}

/// The answers to `LedgerReads`: nil where there is no such row (or nothing was asked).
struct LedgerFacts: Sendable, Equatable {
    var balance: Int64?
    var cardId: String?
    var registeredAt: Int64?
    var restaurantName: String?
}

/// A row a write changes; the dialect says it in SQL.
enum LedgerChange: Sendable, Equatable {
    case setBalance(guestId: String, Int64)
    case insertTransaction(TransactionRecord)
    case insertRegistration(GuestRecord)
    case renameRegistration(GuestRecord)
    case insertCard(cardId: String, GuestAt, createdAt: Int64)
    case nameRestaurant(String, String)
    /// The answer replayed for this key for a day.
    case storeResponse(IdempotencyKey, StoredResponse, at: Int64)
}

/// What a write does: its outcome and answer, the rows it changes and its outbox row.
struct LedgerDecision: Sendable {
    var outcome: LedgerOutcome
    var changes: [LedgerChange]
    var outbox: OutboxRow?
    var response: StoredResponse
}

/// A balance past `Int64.max`: refused (a 500) instead of trapping.
struct LedgerOverflow: Error {}
