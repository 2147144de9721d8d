import NIOConcurrencyHelpers

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

    /// Marks the events with these `seq`s published (those of other writers stay pending).
    func markPublished(_ seqs: [Int64]) async throws

    /// Hears each committed transaction's outbox events right after the commit, before the
    /// writer is answered: the relay publishes them without reading them back.
    var commits: CommitFeed { get }

    /// Whether the database answers (for `/readyz`).
    func isReachable() async -> Bool
}

/// Where a ledger hands its committed outbox events, in commit order, as each transaction
/// commits. One listener (the outbox relay); with none, events simply wait in the outbox.
public final class CommitFeed: Sendable {
    /// The closure is boxed: a bare function value kept in a generic box is re-wrapped in a
    /// reabstraction thunk on every `inout` access, so each commit would have called through
    /// one more layer than the last (perf showed it: 60 % of the node's CPU after a minute).
    private struct Listener: Sendable {
        let hear: @Sendable ([OutboxEvent]) -> Void
    }

    private let listener = NIOLockedValueBox<Listener?>(nil)

    public init() {}

    /// Sets the one listener, replacing any earlier one.
    public func listen(_ listener: @escaping @Sendable ([OutboxEvent]) -> Void) {
        self.listener.withLockedValue { $0 = Listener(hear: listener) }
    }

    /// Called by the ledger with what one commit wrote (nothing for an empty list).
    func committed(_ events: [OutboxEvent]) {
        guard !events.isEmpty, let listener = listener.withLockedValue({ $0 }) else { return }
        listener.hear(events)
    }
}
