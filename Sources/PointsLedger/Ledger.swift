/// The points ledger: balances, transactions, cards, guests and the outbox of their events.
///
/// Every write is one database transaction holding the ledger change, its outbox row and, for a
/// request with an `Idempotency-Key`, the response to replay. Two implementations pass the same
/// contract suite: `SQLiteLedger` (embedded, `herald serve`) and `PostgresLedger`.
public protocol Ledger: Sendable {
    /// Applies `write`; `render` turns the outcome into the HTTP answer inside the transaction, so
    /// that the answer kept for replays commits with the change it describes.
    func apply(
        _ write: LedgerWrite,
        idempotency: IdempotencyKey?,
        render: @escaping @Sendable (LedgerOutcome) -> StoredResponse
    ) async throws -> LedgerReply

    /// The guest's balance; `LedgerError.notFound` for a guest with no record at all.
    func balance(guestId: String) async throws -> Int64

    /// Up to `limit` transactions of the guest older than `before` (a `seq`), newest first.
    func transactions(guestId: String, limit: Int, before: Int64?) async throws -> TransactionPage

    /// Unpublished events in commit order.
    func pendingEvents(limit: Int) async throws -> [OutboxEvent]

    /// Marks every event up to `seq` published.
    func markPublished(upTo seq: Int64) async throws

    /// Whether the database answers (for `/readyz`).
    func isReachable() async -> Bool
}
