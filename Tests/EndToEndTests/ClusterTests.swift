import HeraldTesting
import Testing

/// The cluster of SPEC sections 1 and 6 on loopback: redis-server, 3 gateways and a points-api,
/// driven by python-socketio clients and raw Redis peers (`peers/cluster_scenarios.py`).
@Suite(.serialized) struct ClusterTests {
    @Test(arguments: ["cluster_delivery", "cluster_notifications", "emitter_format", "burst_in_order", "published_layout", "redis_restart"])
    func scenario(_ name: String) async throws {
        let cluster = try await HeraldCluster.start()
        let outcome = try await PythonPeer.run("cluster_scenarios.py", [name] + cluster.scenarioArguments, timeout: .seconds(90))
        await cluster.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n\(cluster.logs)")
    }
}
