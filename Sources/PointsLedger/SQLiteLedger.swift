import GRDB

/// The embedded ledger of `herald serve`: one SQLite file in WAL mode, through GRDB.
///
/// GRDB runs every write on its single writer connection, off the event loops, so writes are
/// serialized (no lost update can make a balance negative) and readers never block them;
/// concurrent writes share a transaction through `GroupCommit`, each in its own savepoint.
/// `synchronous = NORMAL` in WAL mode keeps every commit atomic and the file consistent after a
/// crash; a power cut may lose the last commits (acknowledged requests), the price of 5,000
/// commits a second without group commit.
///
/// Checkpoints (copying the WAL back into the database file) run on a connection of their own
/// a few times a second, not in the committing writer: with SQLite's automatic checkpoint the
/// commit that crossed 1,000 WAL pages copied them back itself, and every write queued behind it
/// waited (the p99 of POST to screen went from 35-40 ms to 7-8 ms at 500 a second without it).
public final class SQLiteLedger: Ledger {
    private let pool: DatabasePool
    private let writes: GroupCommit
    public let commits = CommitFeed()
    private let sweep = IdempotencySweep()
    private let checkpointing: Task<Void, Never>

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            // A WAL started over is cut back to this, so a burst does not keep its disk space.
            try db.execute(sql: "PRAGMA journal_size_limit = \(16 << 20)")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        writes = GroupCommit(pool: pool, commits: commits)
        checkpointing = Task { [writes, pool] in
            guard let checkpointer = try? DatabaseQueue(path: path, configuration: configuration) else { return }
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                guard writes.takeDirty() else { continue }
                // PASSIVE: copies what no reader still needs, never waits for the writer.
                _ = try? await checkpointer.writeWithoutTransaction { db in try db.checkpoint(.passive) }
                // Then the few frames committed meanwhile, between two writes: only a WAL copied
                // back in full is started over by the next write. Under steady writes the first
                // pass alone never catches up, and the WAL grew without end (376 MB in a minute).
                _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
        }
    }

    deinit { checkpointing.cancel() }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE guests (
                    guest_id TEXT PRIMARY KEY,
                    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE guest_registrations (
                    guest_id TEXT NOT NULL,
                    restaurant_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    registered_at INTEGER NOT NULL,
                    PRIMARY KEY (guest_id, restaurant_id)
                );
                CREATE TABLE restaurants (restaurant_id TEXT PRIMARY KEY, name TEXT NOT NULL);
                CREATE TABLE cards (
                    card_id TEXT PRIMARY KEY,
                    guest_id TEXT NOT NULL,
                    restaurant_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    UNIQUE (guest_id, restaurant_id)
                );
                CREATE TABLE transactions (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL CHECK (type IN ('add', 'redeem')),
                    guest_id TEXT NOT NULL,
                    restaurant_id TEXT NOT NULL,
                    card_id TEXT,
                    amount INTEGER NOT NULL CHECK (amount > 0),
                    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
                    description TEXT NOT NULL,
                    timestamp INTEGER NOT NULL
                );
                CREATE INDEX transactions_by_guest ON transactions (guest_id, seq);
                CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id TEXT NOT NULL UNIQUE,
                    event TEXT NOT NULL,
                    rooms TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    published_at INTEGER
                );
                CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;
                CREATE TABLE idempotency (
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    status INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (scope, key)
                );
                """)
        }
        // The idempotency sweep (in `markPublished`) deletes by age: without this index it read
        // the whole table on every relay batch, a day of keys.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: "CREATE INDEX idempotency_by_age ON idempotency (created_at)")
        }
        return migrator
    }

    // MARK: Writes

    public func apply(
        _ write: LedgerWrite,
        idempotency: IdempotencyKey?,
        render: @escaping @Sendable (LedgerOutcome) -> StoredResponse
    ) async throws -> LedgerReply {
        let done = try await writes.submit { db in
            let now = epochMilliseconds()
            let statements = SQLiteStatements(db: db, now: now)
            if let idempotency, let stored = try LedgerAlgorithm.replay(statements.stored(idempotency), for: idempotency) {
                return GroupCommit.Done(reply: .replay(stored))
            }
            let facts = try statements.read(LedgerAlgorithm.reads(for: write))
            let decision = try LedgerAlgorithm.decide(write, facts: facts, idempotency: idempotency, now: now, render: render)
            for change in decision.changes { try statements.make(change) }
            let event = try decision.outbox.map { row in row.event(seq: try statements.append(row)) }
            return GroupCommit.Done(reply: .fresh(decision.response, decision.outcome), event: event)
        }
        guard let reply = done.reply else { throw LedgerError.notFound }
        return reply
    }

    // MARK: Reads

    public func balance(guestId: String) async throws -> Int64 {
        let balance = try await pool.read { db in
            try db.one(Int64.self, "SELECT balance FROM guests WHERE guest_id = ?", [guestId])
        }
        guard let balance else { throw LedgerError.notFound }
        return balance
    }

    public func transactions(guestId: String, limit: Int, before: Int64?) async throws -> TransactionPage {
        try await pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM guests WHERE guest_id = ?", arguments: [guestId]) != nil else {
                throw LedgerError.notFound
            }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, id, type, guest_id, restaurant_id, card_id, amount, balance_after, description, timestamp
                    FROM transactions WHERE guest_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?
                    """,
                arguments: [guestId, before ?? Int64.max, limit + 1]
            )
            let page = rows.prefix(limit).map { row in
                TransactionRecord(
                    id: row["id"], type: TransactionRecord.Kind(rawValue: row["type"]) ?? .add, guestId: row["guest_id"],
                    restaurantId: row["restaurant_id"], cardId: row["card_id"], amount: row["amount"],
                    balanceAfter: row["balance_after"], description: row["description"], timestamp: row["timestamp"]
                )
            }
            let next: Int64? = rows.count > limit ? rows[limit - 1]["seq"] : nil
            return TransactionPage(transactions: page, next: next)
        }
    }

    public func isReachable() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    // MARK: Outbox

    /// Read on the writer's connection, between two group commits: a row it finds has been
    /// handed to `commits` already, so the relay, which may publish a hand-over at once, never
    /// publishes a row from this read ahead of a later row handed over.
    public func pendingEvents(limit: Int) async throws -> [OutboxEvent] {
        try await pool.writeWithoutTransaction { db in
            try Row.fetchAll(
                db,
                sql: "SELECT seq, event_id, event, rooms, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?",
                arguments: [limit]
            ).map { row in
                OutboxEvent(seq: row["seq"], eventId: row["event_id"], event: row["event"],
                            rooms: OutboxPayloads.decodeRooms(row["rooms"]), payload: OutboxPayloads.decodePayload(row["payload"]))
            }
        }
    }

    /// Rides along in the next group commit: marking costs no transaction of its own.
    public func markPublished(_ seqs: [Int64]) async throws {
        let ranges = PublishedRanges(seqs)
        let sweepBefore = sweep.due()
        _ = try await writes.submit { db in
            let now = epochMilliseconds()
            for range in ranges {
                try db.run(
                    "UPDATE outbox SET published_at = ? WHERE seq BETWEEN ? AND ? AND published_at IS NULL",
                    [now, range.lowerBound, range.upperBound]
                )
            }
            if let sweepBefore { try db.run("DELETE FROM idempotency WHERE created_at <= ?", [sweepBefore]) }
            return GroupCommit.Done()
        }
    }
}

extension Database {
    /// Runs a statement prepared once per connection: GRDB caches it by its SQL, so the hot
    /// path does not parse SQL again for every request.
    func run(_ sql: String, _ arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// The first column of the first row, through a cached statement.
    func one<Value: DatabaseValueConvertible & StatementColumnConvertible>(
        _ type: Value.Type, _ sql: String, _ arguments: StatementArguments
    ) throws -> Value? {
        try Value.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}

/// SQLite's side of `LedgerAlgorithm`: its reads and changes in SQLite's SQL, on the writer's
/// connection inside the group commit's transaction. SQLite has one writer, so the guest's row
/// needs no lock of its own.
struct SQLiteStatements {
    let db: Database
    let now: Int64

    func stored(_ key: IdempotencyKey) throws -> StoredIdempotency? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT fingerprint, status, body FROM idempotency WHERE scope = ? AND key = ? AND created_at > ?"),
            arguments: [key.scope, key.key, LedgerAlgorithm.replayableSince(now)]
        ) else { return nil }
        return StoredIdempotency(fingerprint: row["fingerprint"], response: StoredResponse(status: row["status"], body: row["body"]))
    }

    func read(_ reads: LedgerReads) throws -> LedgerFacts {
        var facts = LedgerFacts()
        switch reads.guest {
        case .createIfNew(let guestId):
            try db.run("INSERT INTO guests (guest_id, balance, created_at) VALUES (?, 0, ?) ON CONFLICT DO NOTHING", [guestId, now])
            facts.balance = try db.one(Int64.self, "SELECT balance FROM guests WHERE guest_id = ?", [guestId])
        case .existing(let guestId):
            facts.balance = try db.one(Int64.self, "SELECT balance FROM guests WHERE guest_id = ?", [guestId])
        case nil:
            break
        }
        if let card = reads.card {
            facts.cardId = try db.one(
                String.self, "SELECT card_id FROM cards WHERE guest_id = ? AND restaurant_id = ?", [card.guestId, card.restaurantId]
            )
        }
        if let registration = reads.registration {
            facts.registeredAt = try db.one(
                Int64.self, "SELECT registered_at FROM guest_registrations WHERE guest_id = ? AND restaurant_id = ?",
                [registration.guestId, registration.restaurantId]
            )
        }
        if let restaurantId = reads.restaurantName {
            facts.restaurantName = try db.one(String.self, "SELECT name FROM restaurants WHERE restaurant_id = ?", [restaurantId])
        }
        return facts
    }

    func make(_ change: LedgerChange) throws {
        switch change {
        case .setBalance(let guestId, let balance):
            try db.run("UPDATE guests SET balance = ? WHERE guest_id = ?", [balance, guestId])
        case .insertTransaction(let transaction):
            try db.run(
                """
                INSERT INTO transactions (id, type, guest_id, restaurant_id, card_id, amount, balance_after, description, timestamp)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [transaction.id, transaction.type.rawValue, transaction.guestId, transaction.restaurantId, transaction.cardId,
                 transaction.amount, transaction.balanceAfter, transaction.description, transaction.timestamp]
            )
        case .insertRegistration(let guest):
            try db.run(
                "INSERT INTO guest_registrations (guest_id, restaurant_id, name, registered_at) VALUES (?, ?, ?, ?)",
                [guest.guestId, guest.restaurantId, guest.name, guest.timestamp]
            )
        case .renameRegistration(let guest):
            try db.run(
                "UPDATE guest_registrations SET name = ? WHERE guest_id = ? AND restaurant_id = ?",
                [guest.name, guest.guestId, guest.restaurantId]
            )
        case .insertCard(let cardId, let owner, let createdAt):
            try db.run(
                "INSERT INTO cards (card_id, guest_id, restaurant_id, created_at) VALUES (?, ?, ?, ?)",
                [cardId, owner.guestId, owner.restaurantId, createdAt]
            )
        case .nameRestaurant(let restaurantId, let name):
            try db.run(
                """
                INSERT INTO restaurants (restaurant_id, name) VALUES (?, ?)
                ON CONFLICT (restaurant_id) DO UPDATE SET name = excluded.name
                """,
                [restaurantId, name]
            )
        case .storeResponse(let key, let response, let at):
            try db.run(
                """
                INSERT INTO idempotency (scope, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint,
                    status = excluded.status, body = excluded.body, created_at = excluded.created_at
                """,
                [key.scope, key.key, key.fingerprint, response.status, response.body, at]
            )
        }
    }

    /// Appends the outbox row; its `seq` is the event's place in commit order.
    func append(_ row: OutboxRow) throws -> Int64 {
        try db.run(
            "INSERT INTO outbox (event_id, event, rooms, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            [row.eventId, row.event, row.rooms, row.payloadText, now]
        )
        return db.lastInsertedRowID
    }
}
