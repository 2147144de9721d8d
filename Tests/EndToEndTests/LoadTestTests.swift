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
        let line = try #require(run.text.split(separator: "\n").first { $0.hasPrefix("{") })
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let connections = try #require(report["connections"] as? [String: Any])
        let deliveries = try #require(report["deliveries"] as? [String: Any])
        #expect(connections["held"] as? Int == 150)
        #expect(deliveries["lost"] as? Int == 0 && deliveries["duplicated"] as? Int == 0)
        let expected = ["targeted": 300, "fanout": 300 * 150, "idle": 0][scenario]
        #expect(deliveries["received"] as? Int == expected)
        #expect((report["gateways"] as? [Any])?.count == 2)
        #expect(Set(report.keys) == ["scenario", "connections", "deliveries", "latencyMs", "gateways", "rssPerConnectionBytes"])
    }

    @Test func refusesTargetsOffLoopback() async throws {
        let run = try ChildProcess(TestPaths.heraldBinary, ["loadtest", "--url", "http://192.0.2.1:80", "--jwt-secret", "s"])
        #expect(await run.waitForExit(timeout: .seconds(20)) == 2)
        #expect(run.text.contains("loopback"))
    }
}
