import Foundation
import HeraldTesting
import PointsLedger
import Testing

/// The writer never checkpoints (SQLite's automatic checkpoint is off); the ledger's own
/// checkpointer copies the WAL into the database file soon after commits.
@Suite struct SQLiteCheckpointTests {
    @Test func commitsReachTheDatabaseFileWithoutTheWriter() async throws {
        let path = TestPaths.temporaryFile("checkpoint.sqlite")
        let ledger = try SQLiteLedger(path: path)
        let before = try fileSize(path)
        for index in 0..<300 {
            _ = try await ledger.apply(.addPoints(change("g\(index)", 1)), idempotency: nil, render: render)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while try fileSize(path) <= before, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try fileSize(path) > before)
        #expect(try await ledger.balance(guestId: "g299") == 1)
    }

    func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// Under steady writes the WAL is started over again and again (its header's checkpoint
    /// sequence number counts the restarts), so it cannot grow without bound.
    @Test func theWALStartsOverUnderSteadyWrites() async throws {
        let path = TestPaths.temporaryFile("checkpoint.sqlite")
        let ledger = try SQLiteLedger(path: path)
        _ = try await ledger.apply(.addPoints(change("g", 1)), idempotency: nil, render: render)
        let first = try walRestarts(path)
        // 32 writers at once keep the writer busy, as a stream of POSTs does.
        let deadline = ContinuousClock.now + .seconds(10)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<32 {
                group.addTask {
                    while try walRestarts(path) < first + 3, ContinuousClock.now < deadline {
                        _ = try await ledger.apply(.addPoints(change("g\(writer)", 1)), idempotency: nil, render: render)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try walRestarts(path) >= first + 3)
    }

    /// The WAL header's checkpoint sequence number (big-endian, bytes 12-15).
    @Sendable func walRestarts(_ path: String) throws -> UInt32 {
        let header = try Data(contentsOf: URL(fileURLWithPath: path + "-wal")).prefix(16)
        guard header.count == 16 else { return 0 }
        return header.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}

