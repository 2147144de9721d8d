import HeraldTesting
import Testing

/// `herald serve` driven by real peers: python-socketio clients and raw Engine.IO over
/// websocket-client (`peers/scenarios.py`). Each scenario gets a fresh node.
///
/// Serialized: several scenarios bound how long things take (heartbeat, rate limit), which a
/// machine busy with the others would blur.
@Suite(.serialized) struct ServeScenarioTests {
    @Test(arguments: [
        "connect_default", "connect_websocket", "connect_polling", "auth_header", "auth_failures",
        "namespaces_and_order", "automatic_rooms", "subscribe_matrix", "broadcast_once", "disconnect_cleanup", "malformed_input",
        "event_flood", "flood_disconnect",
    ])
    func scenario(_ name: String) async throws {
        try await run(name)
    }

    @Test func heartbeatTimeout() async throws {
        try await run("heartbeat_timeout", nodeArguments: ["--ping-interval", "500", "--ping-timeout", "500"])
    }

    @Test func corsOrigins() async throws {
        try await run("cors", nodeArguments: ["--cors-origin", "https://app.example"])
    }

    private func run(_ name: String, nodeArguments: [String] = []) async throws {
        let node = try await HeraldNode.start(arguments: nodeArguments)
        let outcome = try await PythonPeer.run("scenarios.py", [name, "--url", node.url, "--secret", node.secret])
        let stillRunning = node.process.isRunning
        await node.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n--- herald log (tail) ---\n\(node.process.text.suffix(3000))")
        #expect(stillRunning, "herald died: \(node.process.text.suffix(3000))")
        #expect(node.process.exitCode == 0, "herald did not exit cleanly on SIGTERM")
    }
}
