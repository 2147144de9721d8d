import Foundation
import Logging
import PostgresNIO

/// The ledger on PostgreSQL through postgres-nio (docker-compose's database).
///
/// Balances change with `UPDATE ... WHERE balance >= amount RETURNING`, which row locks make
/// safe under concurrency; requests with the same `Idempotency-Key` are serialized by a
/// transaction-scoped advisory lock on the key.
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
            let now = epochMilliseconds()
            if let idempotency {
                // Serializes requests with the same key: the second waits, then replays.
                try await db.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(idempotency.scope + "\u{1F}" + idempotency.key), 0))",
                    logger: logger
                )
                let rows = try await db.query(
                    """
                    SELECT fingerprint, status, body FROM idempotency
                    WHERE scope = \(idempotency.scope) AND key = \(idempotency.key)
                      AND created_at > \(now - IdempotencyKey.lifetimeMilliseconds)
                    """,
                    logger: logger
                )
                for try await (fingerprint, status, body) in rows.decode((String, Int, String).self) {
                    guard fingerprint == idempotency.fingerprint else { throw LedgerError.idempotencyKeyReused }
                    return (.replay(StoredResponse(status: status, body: body)), nil)
                }
            }
            let outcome = try await Self.perform(write, db: db, now: now, logger: logger)
            var restaurantName: String?
            if case .points(let transaction, _) = outcome {
                restaurantName = try await Self.first(
                    db.query("SELECT name FROM restaurants WHERE restaurant_id = \(transaction.restaurantId)", logger: logger),
                    as: String.self)
            }
            var event: OutboxEvent?
            if let row = OutboxPayloads.row(for: outcome, restaurantName: restaurantName) {
                let seq = try await Self.first(
                    db.query(
                        """
                        INSERT INTO outbox (event_id, event, rooms, payload, created_at)
                        VALUES (\(row.eventId), \(row.event), \(row.rooms), \(row.payload), \(now)) RETURNING seq
                        """,
                        logger: logger),
                    as: Int64.self)
                event = seq.map(row.event(seq:))
            }
            let response = render(outcome)
            if let idempotency {
                try await db.query(
                    """
                    INSERT INTO idempotency (scope, key, fingerprint, status, body, created_at)
                    VALUES (\(idempotency.scope), \(idempotency.key), \(idempotency.fingerprint), \(response.status),
                            \(response.body), \(now))
                    ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
                        body = excluded.body, created_at = excluded.created_at
                    """,
                    logger: logger
                )
            }
            return (.fresh(response, outcome), event)
        }
    }

    private static func perform(
        _ write: LedgerWrite, db: PostgresConnection, now: Int64, logger: Logger
    ) async throws -> LedgerOutcome {
        switch write {
        case .addPoints(let change):
            try await ensureGuest(change.guestId, db: db, now: now, logger: logger)
            let balance = try await first(
                db.query(
                    "UPDATE guests SET balance = balance + \(change.amount) WHERE guest_id = \(change.guestId) RETURNING balance",
                    logger: logger),
                as: Int64.self) ?? 0
            return try await record(.add, change, balanceAfter: balance, db: db, now: now, logger: logger)
        case .redeemPoints(let change):
            guard let balance = try await first(
                db.query(
                    """
                    UPDATE guests SET balance = balance - \(change.amount)
                    WHERE guest_id = \(change.guestId) AND balance >= \(change.amount) RETURNING balance
                    """,
                    logger: logger),
                as: Int64.self)
            else {
                let current = try await first(
                    db.query("SELECT balance FROM guests WHERE guest_id = \(change.guestId)", logger: logger), as: Int64.self)
                throw current.map { LedgerError.insufficientPoints(balance: $0) } ?? LedgerError.notFound
            }
            return try await record(.redeem, change, balanceAfter: balance, db: db, now: now, logger: logger)
        case .registerGuest(let guestId, let name, let restaurantId):
            try await ensureGuest(guestId, db: db, now: now, logger: logger)
            if let registered = try await first(
                db.query(
                    """
                    UPDATE guest_registrations SET name = \(name)
                    WHERE guest_id = \(guestId) AND restaurant_id = \(restaurantId) RETURNING registered_at
                    """,
                    logger: logger),
                as: Int64.self)
            {
                return .guestRegistered(GuestRecord(guestId: guestId, name: name, restaurantId: restaurantId, timestamp: registered), created: false)
            }
            try await db.query(
                """
                INSERT INTO guest_registrations (guest_id, restaurant_id, name, registered_at)
                VALUES (\(guestId), \(restaurantId), \(name), \(now))
                """,
                logger: logger
            )
            return .guestRegistered(GuestRecord(guestId: guestId, name: name, restaurantId: restaurantId, timestamp: now), created: true)
        case .createCard(let guestId, let restaurantId):
            try await ensureGuest(guestId, db: db, now: now, logger: logger)
            let cardId = makeID()
            let inserted = try await first(
                db.query(
                    """
                    INSERT INTO cards (card_id, guest_id, restaurant_id, created_at) VALUES (\(cardId), \(guestId), \(restaurantId), \(now))
                    ON CONFLICT (guest_id, restaurant_id) DO NOTHING RETURNING card_id
                    """,
                    logger: logger),
                as: String.self)
            guard inserted != nil else { throw LedgerError.cardExists }
            return .cardCreated(cardId: cardId, guestId: guestId, restaurantId: restaurantId, timestamp: now)
        case .nameRestaurant(let restaurantId, let name):
            try await db.query(
                """
                INSERT INTO restaurants (restaurant_id, name) VALUES (\(restaurantId), \(name))
                ON CONFLICT (restaurant_id) DO UPDATE SET name = excluded.name
                """,
                logger: logger
            )
            return .restaurantNamed(restaurantId: restaurantId, name: name)
        case .raiseAlert(let level, let message):
            return .alertRaised(level: level, message: message, timestamp: now)
        }
    }

    private static func ensureGuest(_ guestId: String, db: PostgresConnection, now: Int64, logger: Logger) async throws {
        try await db.query(
            "INSERT INTO guests (guest_id, balance, created_at) VALUES (\(guestId), 0, \(now)) ON CONFLICT DO NOTHING",
            logger: logger
        )
    }

    private static func record(
        _ type: TransactionRecord.Kind, _ change: PointsChange, balanceAfter: Int64, db: PostgresConnection, now: Int64,
        logger: Logger
    ) async throws -> LedgerOutcome {
        let cardId = try await first(
            db.query(
                "SELECT card_id FROM cards WHERE guest_id = \(change.guestId) AND restaurant_id = \(change.restaurantId)",
                logger: logger),
            as: String.self)
        let transaction = TransactionRecord(
            id: makeID(), type: type, guestId: change.guestId, restaurantId: change.restaurantId, cardId: cardId,
            amount: change.amount, balanceAfter: balanceAfter, description: change.description, timestamp: now
        )
        try await db.query(
            """
            INSERT INTO transactions (id, type, guest_id, restaurant_id, card_id, amount, balance_after, description, timestamp)
            VALUES (\(transaction.id), \(type.rawValue), \(change.guestId), \(change.restaurantId), \(cardId), \(change.amount),
                    \(balanceAfter), \(change.description), \(now))
            """,
            logger: logger
        )
        return .points(transaction, newBalance: balanceAfter)
    }

    private static func first<Value: PostgresDecodable & Sendable>(_ rows: PostgresRowSequence, as type: Value.Type) async throws -> Value? {
        for try await value in rows.decode(Value.self) { return value }
        return nil
    }

    // MARK: Reads

    public func balance(guestId: String) async throws -> Int64 {
        let rows = try await client.query("SELECT balance FROM guests WHERE guest_id = \(guestId)", logger: logger)
        guard let balance = try await Self.first(rows, as: Int64.self) else { throw LedgerError.notFound }
        return balance
    }

    public func transactions(guestId: String, limit: Int, before: Int64?) async throws -> TransactionPage {
        let exists = try await Self.first(
            client.query("SELECT 1 FROM guests WHERE guest_id = \(guestId)", logger: logger), as: Int32.self)
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
        (try? await Self.first(client.query("SELECT 1", logger: logger), as: Int32.self)) == 1
    }

    // MARK: Outbox

    public func pendingEvents(limit: Int) async throws -> [OutboxEvent] {
        let rows = try await client.query(
            "SELECT seq, event_id, event, rooms, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT \(limit)",
            logger: logger
        )
        var events: [OutboxEvent] = []
        for try await (seq, eventId, event, rooms, payload) in rows.decode((Int64, String, String, String, String).self) {
            events.append(OutboxEvent(seq: seq, eventId: eventId, event: event, rooms: OutboxPayloads.decodeRooms(rooms), payload: payload))
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
