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
}
