import GRDB
import NIOConcurrencyHelpers

/// Group commit for SQLite: writes that arrive while a transaction is committing go together
/// into the next one, each in its own savepoint.
///
/// SQLite has one writer; a transaction per request pays its WAL page writes and its commit for
/// that request alone. Batching the requests that queued up meanwhile pays them once per batch
/// while every request keeps its own outcome: a refusal rolls back its savepoint only, and a
/// failed commit fails every request of the batch (none of them happened).
final class GroupCommit: Sendable {
    typealias Work = @Sendable (Database) throws -> LedgerReply

    private struct Job: Sendable {
        let work: Work
        let continuation: CheckedContinuation<LedgerReply, any Error>
    }

    private let pool: DatabasePool
    private let state = NIOLockedValueBox<(queue: [Job], draining: Bool)>(([], false))
    /// The most requests one transaction takes, so a burst does not make one huge commit.
    static let maxBatch = 128

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `work` in the next transaction and returns its outcome once that transaction committed.
    func submit(_ work: @escaping Work) async throws -> LedgerReply {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLockedValue { state -> Bool in
                state.queue.append(Job(work: work, continuation: continuation))
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if start { Task { await drain() } }
        }
    }

    private func drain() async {
        while true {
            let jobs = state.withLockedValue { state -> [Job] in
                let batch = Array(state.queue.prefix(Self.maxBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            guard !jobs.isEmpty else { return }
            let works = jobs.map(\.work)
            do {
                let results = try await pool.write { db -> [Result<LedgerReply, any Error>] in
                    works.map { work in
                        do {
                            var reply: LedgerReply?
                            try db.inSavepoint {
                                reply = try work(db)
                                return .commit
                            }
                            guard let reply else { return .failure(LedgerError.notFound) }
                            return .success(reply)
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                for (job, result) in zip(jobs, results) { job.continuation.resume(with: result) }
            } catch {
                for job in jobs { job.continuation.resume(throwing: error) }
            }
        }
    }
}
