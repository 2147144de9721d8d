import GRDB
import NIOConcurrencyHelpers

/// Group commit for SQLite: writes that arrive while a transaction is committing go together
/// into the next one, each in its own savepoint.
///
/// SQLite has one writer; a transaction per request pays its WAL page writes and its commit for
/// that request alone. Batching the requests that queued up meanwhile pays them once per batch
/// while every request keeps its own outcome: a refusal rolls back its savepoint only, and a
/// failed commit fails every request of the batch (none of them happened).
///
/// Once a batch commits, the outbox events its writes made go to `commits` in commit order,
/// before any of its callers resume, so the relay can publish them while the answers go out.
final class GroupCommit: Sendable {
    /// What one write did: its reply (nil for housekeeping such as marking events published)
    /// and the outbox event it wrote, if any.
    struct Done: Sendable {
        var reply: LedgerReply?
        var event: OutboxEvent?
    }

    typealias Work = @Sendable (Database) throws -> Done

    private struct Job: Sendable {
        let work: Work
        let continuation: CheckedContinuation<Done, any Error>
    }

    private let pool: DatabasePool
    private let commits: CommitFeed
    private struct State {
        var queue: [Job] = []
        var draining = false
        /// Whether a transaction committed since the checkpointer last looked.
        var dirty = false
    }

    private let state = NIOLockedValueBox(State())
    /// The most requests one transaction takes, so a burst does not make one huge commit.
    static let maxBatch = 128

    init(pool: DatabasePool, commits: CommitFeed) {
        self.pool = pool
        self.commits = commits
    }

    /// Runs `work` in the next transaction and returns its outcome once that transaction committed.
    func submit(_ work: @escaping Work) async throws -> Done {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLockedValue { state -> Bool in
                state.queue.append(Job(work: work, continuation: continuation))
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if start { commitNextBatch() }
        }
    }

    /// True once after any commit: there is WAL to checkpoint.
    func takeDirty() -> Bool {
        state.withLockedValue { state in
            defer { state.dirty = false }
            return state.dirty
        }
    }

    /// Commits the next batch on the writer's own queue, then hands its events on and answers
    /// its callers from there: no task runs between a commit and the relay's publish.
    ///
    /// One batch per turn of the queue: a batch waiting behind this one goes to the back, after
    /// whatever else waits for the writer (the checkpoint, an outbox read), so steady writes
    /// never starve them.
    private func commitNextBatch() {
        pool.asyncWriteWithoutTransaction { [self] db in
            let jobs = state.withLockedValue { state -> [Job] in
                let batch = Array(state.queue.prefix(Self.maxBatch))
                state.queue.removeFirst(batch.count)
                return batch
            }
            commit(jobs, in: db)
            let more = state.withLockedValue { state -> Bool in
                if state.queue.isEmpty { state.draining = false }
                return state.draining
            }
            if more { commitNextBatch() }
        }
    }

    private func commit(_ jobs: [Job], in db: Database) {
        guard !jobs.isEmpty else { return }
        var results: [Result<Done, any Error>] = []
        do {
            try db.inTransaction {
                results = jobs.map { job in
                    do {
                        var done: Done?
                        try db.inSavepoint {
                            done = try job.work(db)
                            return .commit
                        }
                        guard let done else { return .failure(LedgerError.notFound) }
                        return .success(done)
                    } catch {
                        return .failure(error)
                    }
                }
                return .commit
            }
        } catch {
            // The commit failed: none of the batch happened.
            for job in jobs { job.continuation.resume(throwing: error) }
            return
        }
        state.withLockedValue { $0.dirty = true }
        commits.committed(results.compactMap { try? $0.get().event })
        for (job, result) in zip(jobs, results) { job.continuation.resume(with: result) }
    }
}
