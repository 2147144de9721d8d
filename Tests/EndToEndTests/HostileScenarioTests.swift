import HeraldTesting
import Testing

/// Inputs that once stopped a node (issue 10), sent by real peers (`peers/hostile_scenarios.py`):
/// after each, the node is still running and its other clients are served.
@Suite(.serialized) struct HostileScenarioTests {
    @Test(arguments: [
        "leave_while_answer_pending", "binary_after_refused_packet", "wide_digits", "binary_events", "http_abuse", "slow_reader",
    ])
    func onServe(_ name: String) async throws {
        let node = try await HeraldNode.start(arguments: ["--http-head-timeout", "2", "--http-idle-timeout", "2"])
        let outcome = try await PythonPeer.run(
            "hostile_scenarios.py", [name, "--url", node.url, "--secret", node.secret, "--pid", String(node.process.pid)],
            timeout: .seconds(90)
        )
        let stillRunning = node.process.isRunning
        await node.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n--- herald log (tail) ---\n\(node.process.text.suffix(3000))")
        #expect(stillRunning, "herald died: \(node.process.text.suffix(3000))")
    }

    @Test func connectionsPerAddress() async throws {
        let node = try await HeraldNode.start(arguments: ["--max-connections-per-address", "40"])
        let outcome = try await PythonPeer.run("hostile_scenarios.py", ["connections_per_address", "--url", node.url, "--secret", node.secret])
        await node.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n--- herald log (tail) ---\n\(node.process.text.suffix(3000))")
    }

    @Test(arguments: ["hostile_redis", "binary_from_node"])
    func onTheCluster(_ name: String) async throws {
        let cluster = try await HeraldCluster.start()
        let arguments = [name, "--url", cluster.gateways[0].url] + cluster.scenarioArguments
        let outcome = try await PythonPeer.run("hostile_scenarios.py", arguments, timeout: .seconds(90))
        let logs = cluster.logs
        let running = (cluster.gateways + [cluster.api]).allSatisfy(\.process.isRunning)
        await cluster.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n\(logs)")
        #expect(running, "a node died:\n\(logs)")
    }
}
