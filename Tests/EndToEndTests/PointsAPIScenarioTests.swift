import Foundation
import HeraldTesting
import Logging
import PointsLedger
import Testing

/// The points API of `herald serve` driven over HTTP, its events seen by python-socketio clients
/// (`peers/api_scenarios.py`). Each scenario gets a fresh node and ledger.
@Suite struct PointsAPIScenarioTests {
    static let scenarios = ["api_validation", "api_paging", "api_events", "api_idempotency"]

    @Test(arguments: scenarios)
    func onSQLite(_ name: String) async throws {
        try await run(name, database: [])
    }

    /// The same scenarios on PostgreSQL: same behaviour on both ledgers (SPEC 5).
    @Test(arguments: scenarios)
    func onPostgreSQL(_ name: String) async throws {
        let postgres = try await PostgresServer.start()
        do {
            try await run(name, database: ["--db", postgres.url])
        } catch {
            await postgres.stop()
            throw error
        }
        await postgres.stop()
    }

    private func run(_ name: String, database: [String]) async throws {
        let node = try await HeraldNode.start(arguments: database)
        let outcome = try await PythonPeer.run("api_scenarios.py", [name, "--url", node.url, "--secret", node.secret])
        await node.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n--- herald log (tail) ---\n\(node.process.text.suffix(3000))")
        #expect(!node.process.text.contains("error"), "herald logged an error: \(node.process.text.suffix(3000))")
    }

    /// Rows committed while no node published them (a crash, a stop) go out when a node starts
    /// on that database: here they reach the notification center a client then syncs.
    @Test func outboxResumesAfterRestart() async throws {
        let path = TestPaths.temporaryFile("resume.sqlite")
        let guest = "resume-\(UUID().uuidString.prefix(8))"
        do {
            let ledger = try SQLiteLedger(path: path)
            for amount in [5, 7, 9] {
                _ = try await ledger.apply(
                    .addPoints(PointsChange(guestId: guest, restaurantId: "r1", amount: Int64(amount), description: "")),
                    idempotency: nil, render: { _ in StoredResponse(status: 201, body: "") })
            }
            #expect(try await ledger.pendingEvents(limit: 10).count == 3)
        }
        let node = try await HeraldNode.start(arguments: ["--db", path])
        let outcome = try await PythonPeer.run("sync_check.py", [
            "--url", node.url, "--secret", node.secret, "--guest", guest, "--expect", "points_added:9,points_added:7,points_added:5",
        ])
        await node.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n\(node.process.text.suffix(2000))")
        #expect(try await SQLiteLedger(path: path).pendingEvents(limit: 10).isEmpty)
    }
}
