import Foundation
import Logging
import PostgresNIO

/// The ledger on PostgreSQL through postgres-nio (docker-compose's database).
///
/// Writes run `LedgerAlgorithm` through `PostgresStatements`: a write locks its guest's row
/// (`SELECT ... FOR UPDATE`) before it reads the balance, so concurrent writes for one guest take
/// their turns; requests with the same `Idempotency-Key` are serialized by a transaction-scoped
/// advisory lock on the key.
public final class PostgresLedger: Ledger {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    public let commits = CommitFeed()
    private let sweep = IdempotencySweep()

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Connects to `postgres://user:password@host:port/database` and brings the schema up to date,
    /// retrying for up to `patience` while the server is not up yet.
    public static func connect(url: String, logger: Logger, patience: Duration = .seconds(30)) async throws -> PostgresLedger {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            throw PostgresLedgerError("not a postgres://user:password@host:port/database URL")
        }
        let database = components.path.split(separator: "/").first.map(String.init)
        let configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database, tls: .disable
        )
        let ledger = PostgresLedger(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        let deadline = ContinuousClock.now + patience
        while true {
            do {
                try await ledger.migrate()
                logger.info("[Ledger] PostgreSQL at \(host):\(components.port ?? 5432)/\(database ?? user)")
                return ledger
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw PostgresLedgerError("cannot reach PostgreSQL at \(host):\(components.port ?? 5432): \(String(reflecting: error))")
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private func migrate() async throws {
        try await client.withTransaction(logger: logger) { db in
            try await db.query("SELECT pg_advisory_xact_lock(727274)", logger: logger)
            try await db.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)", logger: logger)
            for (index, statements) in Self.migrations.enumerated() {
                let version = index + 1
                var applied = false
                for try await _ in try await db.query("SELECT 1 FROM schema_migrations WHERE version = \(version)", logger: logger) {
                    applied = true
                }
                if applied { continue }
                for statement in statements {
                    try await db.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await db.query("INSERT INTO schema_migrations (version) VALUES (\(version))", logger: logger)
            }
        }
    }

    /// Version n is `migrations[n - 1]`; a database records the versions it has.
    static let migrations = [schemaV1, schemaV2]

    static let schemaV1 = [
        """
        CREATE TABLE guests (guest_id TEXT PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
            created_at BIGINT NOT NULL)
        """,
        """
        CREATE TABLE guest_registrations (guest_id TEXT NOT NULL, restaurant_id TEXT NOT NULL, name TEXT NOT NULL,
            registered_at BIGINT NOT NULL, PRIMARY KEY (guest_id, restaurant_id))
        """,
        "CREATE TABLE restaurants (restaurant_id TEXT PRIMARY KEY, name TEXT NOT NULL)",
        """
        CREATE TABLE cards (card_id TEXT PRIMARY KEY, guest_id TEXT NOT NULL, restaurant_id TEXT NOT NULL,
            created_at BIGINT NOT NULL, UNIQUE (guest_id, restaurant_id))
        """,
        """
        CREATE TABLE transactions (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL CHECK (type IN ('add', 'redeem')), guest_id TEXT NOT NULL, restaurant_id TEXT NOT NULL,
            card_id TEXT, amount BIGINT NOT NULL CHECK (amount > 0), balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
            description TEXT NOT NULL, timestamp BIGINT NOT NULL)
        """,
        "CREATE INDEX transactions_by_guest ON transactions (guest_id, seq)",
        """
        CREATE TABLE outbox (seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, event TEXT NOT NULL,
            rooms TEXT NOT NULL, payload TEXT NOT NULL, created_at BIGINT NOT NULL, published_at BIGINT)
        """,
        "CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL",
        """
        CREATE TABLE idempotency (scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
            body TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (scope, key))
        """,
    ]

    /// The idempotency sweep (in `markPublished`) deletes by age: without this index it read the
    /// whole table on every relay batch, a day of keys.
    static let schemaV2 = ["CREATE INDEX idempotency_by_age ON idempotency (created_at)"]

    // MARK: Writes

    public func apply(
        _ write: LedgerWrite,
        idempotency: IdempotencyKey?,
        render: @escaping @Sendable (LedgerOutcome) -> StoredResponse
    ) async throws -> LedgerReply {
        do {
            let (reply, event) = try await transaction(write, idempotency: idempotency, render: render)
            if let event { commits.committed([event]) }
            return reply
        } catch let error as PostgresTransactionError {
            // A refusal rolled the transaction back: callers see the refusal, as with SQLite.
            if let refusal = error.closureError as? LedgerError, error.rollbackError == nil { throw refusal }
            throw error
        }
    }

    private func transaction(
        _ write: LedgerWrite,
        idempotency: IdempotencyKey?,
        render: @escaping @Sendable (LedgerOutcome) -> StoredResponse
    ) async throws -> (LedgerReply, OutboxEvent?) {
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { db -> (LedgerReply, OutboxEvent?) in
            let statements = PostgresStatements(db: db, now: epochMilliseconds(), logger: logger)
            if let idempotency, let stored = try LedgerAlgorithm.replay(await statements.stored(idempotency), for: idempotency) {
                return (.replay(stored), nil)
            }
            let facts = try await statements.read(LedgerAlgorithm.reads(for: write))
            let decision = try LedgerAlgorithm.decide(write, facts: facts, idempotency: idempotency, now: statements.now, render: render)
            for change in decision.changes { try await statements.make(change) }
            var event: OutboxEvent?
            if let row = decision.outbox { event = row.event(seq: try await statements.append(row)) }
            return (.fresh(decision.response, decision.outcome), event)
        }
    }

    // MARK: Reads

    public func balance(guestId: String) async throws -> Int64 {
        let rows = try await client.query("SELECT balance FROM guests WHERE guest_id = \(guestId)", logger: logger)
        guard let balance = try await rows.first(as: Int64.self) else { throw LedgerError.notFound }
        return balance
    }

    public func transactions(guestId: String, limit: Int, before: Int64?) async throws -> TransactionPage {
        let exists = try await client.query("SELECT 1 FROM guests WHERE guest_id = \(guestId)", logger: logger).first(as: Int32.self)
        guard exists != nil else { throw LedgerError.notFound }
        let rows = try await client.query(
            """
            SELECT seq, id, type, guest_id, restaurant_id, card_id, amount, balance_after, description, timestamp
            FROM transactions WHERE guest_id = \(guestId) AND seq < \(before ?? Int64.max) ORDER BY seq DESC LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var records: [(Int64, TransactionRecord)] = []
        for try await (seq, id, type, guest, restaurant, card, amount, after, description, timestamp) in rows.decode(
            (Int64, String, String, String, String, String?, Int64, Int64, String, Int64).self)
        {
            records.append((seq, TransactionRecord(
                id: id, type: TransactionRecord.Kind(rawValue: type) ?? .add, guestId: guest, restaurantId: restaurant,
                cardId: card, amount: amount, balanceAfter: after, description: description, timestamp: timestamp)))
        }
        let next = records.count > limit ? records[limit - 1].0 : nil
        return TransactionPage(transactions: records.prefix(limit).map(\.1), next: next)
    }

    public func isReachable() async -> Bool {
        (try? await client.query("SELECT 1", logger: logger).first(as: Int32.self)) == 1
    }

    // MARK: Outbox

    public func pendingEvents(limit: Int) async throws -> [OutboxEvent] {
        let rows = try await client.query(
            "SELECT seq, event_id, event, rooms, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT \(limit)",
            logger: logger
        )
        var events: [OutboxEvent] = []
        for try await (seq, eventId, event, rooms, payload) in rows.decode((Int64, String, String, String, String).self) {
            events.append(OutboxEvent(seq: seq, eventId: eventId, event: event, rooms: OutboxPayloads.decodeRooms(rooms), payload: OutboxPayloads.decodePayload(payload)))
        }
        return events
    }

    public func markPublished(_ seqs: [Int64]) async throws {
        let now = epochMilliseconds()
        for range in PublishedRanges(seqs) {
            try await client.query(
                """
                UPDATE outbox SET published_at = \(now)
                WHERE seq BETWEEN \(range.lowerBound) AND \(range.upperBound) AND published_at IS NULL
                """,
                logger: logger)
        }
        if let sweepBefore = sweep.due() {
            try await client.query("DELETE FROM idempotency WHERE created_at <= \(sweepBefore)", logger: logger)
        }
    }
}

/// A PostgreSQL ledger that could not start, told in one line.
public struct PostgresLedgerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension PostgresRowSequence {
    /// The first column of the first row, if there is a row.
    func first<Value: PostgresDecodable & Sendable>(as type: Value.Type) async throws -> Value? {
        for try await value in decode(Value.self) { return value }
        return nil
    }
}

/// PostgreSQL's side of `LedgerAlgorithm`: its reads and changes in PostgreSQL's SQL, on the
/// transaction's connection. Unlike SQLite, writers run concurrently here, so the idempotency key
/// and the guest's row are locked for the transaction: requests with one key, and writes for one
/// guest, take their turns (and the second sees what the first wrote).
struct PostgresStatements {
    let db: PostgresConnection
    let now: Int64
    let logger: Logger

    func stored(_ key: IdempotencyKey) async throws -> StoredIdempotency? {
        // Serializes requests with the same key: the second waits, then replays.
        try await db.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key.scope + "\u{1F}" + key.key), 0))", logger: logger)
        let rows = try await db.query(
            """
            SELECT fingerprint, status, body FROM idempotency
            WHERE scope = \(key.scope) AND key = \(key.key) AND created_at > \(LedgerAlgorithm.replayableSince(now))
            """,
            logger: logger
        )
        for try await (fingerprint, status, body) in rows.decode((String, Int, String).self) {
            return StoredIdempotency(fingerprint: fingerprint, response: StoredResponse(status: status, body: body))
        }
        return nil
    }

    func read(_ reads: LedgerReads) async throws -> LedgerFacts {
        var facts = LedgerFacts()
        switch reads.guest {
        case .createIfNew(let guestId):
            try await db.query(
                "INSERT INTO guests (guest_id, balance, created_at) VALUES (\(guestId), 0, \(now)) ON CONFLICT DO NOTHING",
                logger: logger)
            facts.balance = try await lockedBalance(guestId)
        case .existing(let guestId):
            facts.balance = try await lockedBalance(guestId)
        case nil:
            break
        }
        if let card = reads.card {
            facts.cardId = try await db.query(
                "SELECT card_id FROM cards WHERE guest_id = \(card.guestId) AND restaurant_id = \(card.restaurantId)",
                logger: logger
            ).first(as: String.self)
        }
        if let registration = reads.registration {
            facts.registeredAt = try await db.query(
                """
                SELECT registered_at FROM guest_registrations
                WHERE guest_id = \(registration.guestId) AND restaurant_id = \(registration.restaurantId)
                """,
                logger: logger
            ).first(as: Int64.self)
        }
        if let restaurantId = reads.restaurantName {
            facts.restaurantName = try await db.query(
                "SELECT name FROM restaurants WHERE restaurant_id = \(restaurantId)", logger: logger
            ).first(as: String.self)
        }
        return facts
    }

    private func lockedBalance(_ guestId: String) async throws -> Int64? {
        try await db.query("SELECT balance FROM guests WHERE guest_id = \(guestId) FOR UPDATE", logger: logger).first(as: Int64.self)
    }

    func make(_ change: LedgerChange) async throws {
        switch change {
        case .setBalance(let guestId, let balance):
            try await db.query("UPDATE guests SET balance = \(balance) WHERE guest_id = \(guestId)", logger: logger)
        case .insertTransaction(let transaction):
            try await db.query(
                """
                INSERT INTO transactions (id, type, guest_id, restaurant_id, card_id, amount, balance_after, description, timestamp)
                VALUES (\(transaction.id), \(transaction.type.rawValue), \(transaction.guestId), \(transaction.restaurantId),
                        \(transaction.cardId), \(transaction.amount), \(transaction.balanceAfter), \(transaction.description),
                        \(transaction.timestamp))
                """,
                logger: logger
            )
        case .insertRegistration(let guest):
            try await db.query(
                """
                INSERT INTO guest_registrations (guest_id, restaurant_id, name, registered_at)
                VALUES (\(guest.guestId), \(guest.restaurantId), \(guest.name), \(guest.timestamp))
                """,
                logger: logger
            )
        case .renameRegistration(let guest):
            try await db.query(
                """
                UPDATE guest_registrations SET name = \(guest.name)
                WHERE guest_id = \(guest.guestId) AND restaurant_id = \(guest.restaurantId)
                """,
                logger: logger
            )
        case .insertCard(let cardId, let owner, let createdAt):
            try await db.query(
                """
                INSERT INTO cards (card_id, guest_id, restaurant_id, created_at)
                VALUES (\(cardId), \(owner.guestId), \(owner.restaurantId), \(createdAt))
                """,
                logger: logger
            )
        case .nameRestaurant(let restaurantId, let name):
            try await db.query(
                """
                INSERT INTO restaurants (restaurant_id, name) VALUES (\(restaurantId), \(name))
                ON CONFLICT (restaurant_id) DO UPDATE SET name = excluded.name
                """,
                logger: logger
            )
        case .storeResponse(let key, let response, let at):
            try await db.query(
                """
                INSERT INTO idempotency (scope, key, fingerprint, status, body, created_at)
                VALUES (\(key.scope), \(key.key), \(key.fingerprint), \(response.status), \(response.body), \(at))
                ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
                    body = excluded.body, created_at = excluded.created_at
                """,
                logger: logger
            )
        }
    }

    /// Appends the outbox row; its `seq` is the event's place in commit order.
    func append(_ row: OutboxRow) async throws -> Int64 {
        let seq = try await db.query(
            """
            INSERT INTO outbox (event_id, event, rooms, payload, created_at)
            VALUES (\(row.eventId), \(row.event), \(row.rooms), \(row.payloadText), \(now)) RETURNING seq
            """,
            logger: logger
        ).first(as: Int64.self)
        guard let seq else { throw PostgresLedgerError("the outbox gave no seq") }
        return seq
    }
}
