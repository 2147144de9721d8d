import Foundation
import HeraldTesting
import Testing

/// `herald loadtest` against the cluster: its connections, its events through Redis in the
/// emitter format, and its report (SPEC section 7).
@Suite(.serialized) struct LoadTestTests {
    @Test(arguments: ["targeted", "fanout", "idle"])
    func reportsWhatItMeasured(_ scenario: String) async throws {
        let cluster = try await HeraldCluster.start(gateways: 2)
        let pids = cluster.gateways.map { String($0.process.pid) }.joined(separator: ",")
        let run = try ChildProcess(TestPaths.heraldBinary, [
            "loadtest", "--url", cluster.gateways[0].url, "--scenario", scenario, "--connections", "150",
            "--events", "300", "--rate", "600", "--redis", cluster.redis.url, "--jwt-secret", cluster.secret,
            "--pids", pids, "--hold", "1", "--json",
        ])
        let code = await run.waitForExit(timeout: .seconds(90))
        await cluster.stop()
        #expect(code == 0, "\(run.text)\n\(cluster.logs)")
        let report = try jsonReport(run.text)
        let connections = try #require(report["connections"] as? [String: Any])
        let deliveries = try #require(report["deliveries"] as? [String: Any])
        #expect(connections["held"] as? Int == 150)
        #expect(deliveries["lost"] as? Int == 0 && deliveries["duplicated"] as? Int == 0)
        let expected = ["targeted": 300, "fanout": 300 * 150, "idle": 0][scenario]
        #expect(deliveries["received"] as? Int == expected)
        #expect((report["gateways"] as? [Any])?.count == 2)
        #expect(Set(report.keys) == ["scenario", "connections", "deliveries", "latencyMs", "gateways", "rssPerConnectionBytes"])
    }

    /// Worker processes (one process holds about 19,000 sockets) over every node at once: the
    /// parent publishes, the workers receive, the report adds them up.
    @Test(arguments: ["targeted", "fanout"])
    func spreadsOverWorkerProcesses(_ scenario: String) async throws {
        let cluster = try await HeraldCluster.start(gateways: 2)
        let run = try ChildProcess(TestPaths.heraldBinary, [
            "loadtest", "--url", cluster.gateways.map(\.url).joined(separator: ","), "--processes", "3",
            "--scenario", scenario, "--connections", "120", "--events", "90", "--rate", "900",
            "--redis", cluster.redis.url, "--jwt-secret", cluster.secret, "--json",
        ])
        let code = await run.waitForExit(timeout: .seconds(90))
        await cluster.stop()
        #expect(code == 0, "\(run.text)\n\(cluster.logs)")
        let report = try jsonReport(run.text)
        let deliveries = try #require(report["deliveries"] as? [String: Any])
        #expect((report["connections"] as? [String: Any])?["held"] as? Int == 120)
        #expect(deliveries["received"] as? Int == (scenario == "fanout" ? 90 * 120 : 90))
        #expect(deliveries["lost"] as? Int == 0 && deliveries["duplicated"] as? Int == 0)
        let latency = try #require(report["latencyMs"] as? [String: Double])
        #expect(latency["max"]! > 0 && latency["p50"]! <= latency["max"]!)
        for gateway in cluster.gateways {
            #expect(gateway.process.text.contains("[WebSocket] User"), "every node had a share of the connections")
        }
    }

    /// Without `--redis` the events go through the points API (SPEC section 7): each one a
    /// `POST /api/points/add` that the ledger commits and the outbox publishes; latency runs from
    /// the commit's `timestamp`.
    @Test(arguments: ["targeted", "fanout"])
    func drivesEventsThroughThePointsAPI(_ scenario: String) async throws {
        let node = try await HeraldNode.start("serve")
        let run = try ChildProcess(TestPaths.heraldBinary, [
            "loadtest", "--url", node.url, "--scenario", scenario, "--connections", "60", "--events", "120",
            "--rate", "400", "--jwt-secret", node.secret, "--pids", String(node.process.pid), "--json",
        ])
        let code = await run.waitForExit(timeout: .seconds(90))
        await node.stop()
        #expect(code == 0, "\(run.text)\n\(node.process.text.suffix(3000))")
        let report = try jsonReport(run.text)
        let deliveries = try #require(report["deliveries"] as? [String: Any])
        #expect(deliveries["received"] as? Int == (scenario == "fanout" ? 120 * 60 : 120))
        #expect(deliveries["lost"] as? Int == 0 && deliveries["duplicated"] as? Int == 0)
        #expect(node.process.text.contains("points_added"))
    }

    /// The `--json` line of a run's output.
    func jsonReport(_ output: String) throws -> [String: Any] {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("{") })
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func refusesTargetsOffLoopback() async throws {
        let run = try ChildProcess(TestPaths.heraldBinary, ["loadtest", "--url", "http://192.0.2.1:80", "--jwt-secret", "s"])
        #expect(await run.waitForExit(timeout: .seconds(20)) == 2)
        #expect(run.text.contains("loopback"))
    }
}
