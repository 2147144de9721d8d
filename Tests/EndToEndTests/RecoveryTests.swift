import Foundation
import HeraldTesting
import Testing

/// Connection state recovery (SPEC section 4.1), end to end with exact accounting
/// (`peers/recovery_scenarios.py`, a client that speaks socket.io-client's recovery): every
/// fault scenario prints its lost, duplicated and out-of-order counts, and each must be 0.
@Suite(.serialized) struct RecoveryTests {
    /// `herald serve`: sessions and logs in memory.
    @Test(arguments: ["network_cut", "ten_cycles", "no_offset_yet", "fresh_sessions", "subscriptions_restored"])
    func onServe(_ name: String) async throws {
        try await runOnServe(name, [])
    }

    @Test func trimmedLog() async throws {
        try await runOnServe("trimmed_log", ["--recovery-events-per-room", "5"])
    }

    @Test func expiredSession() async throws {
        try await runOnServe("expired", ["--recovery-window", "1"])
    }

    @Test func recoveryOff() async throws {
        try await runOnServe("recovery_off", ["--recovery-window", "0"])
    }

    private func runOnServe(_ name: String, _ arguments: [String]) async throws {
        let node = try await HeraldNode.start(arguments: arguments)
        let outcome = try await PythonPeer.run(
            "recovery_scenarios.py", [name, "--url", node.url, "--secret", node.secret], timeout: .seconds(90)
        )
        await node.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n--- herald log (tail) ---\n\(node.process.text.suffix(3000))")
        print(outcome.output.split(separator: "\n").filter { $0.contains("lost") }.joined(separator: "\n"))
    }

    /// The cluster: sessions and room logs in Redis; any gateway restores any session.
    @Test(arguments: ["cluster_cycles", "gateway_killed", "redis_restart_mid_stream", "points_api_killed"])
    func onTheCluster(_ name: String) async throws {
        let cluster = try await HeraldCluster.start()
        let data = try JSONSerialization.data(withJSONObject: cluster.apiRestartCommand)
        let redisRestart = try JSONSerialization.data(withJSONObject: cluster.redisRestartCommand)
        let arguments = [
            name, "--url", cluster.gateways[0].url, "--secret", cluster.secret, "--api", cluster.api.url,
            "--urls", cluster.gateways.map(\.url).joined(separator: ","),
            "--gateway-pids", cluster.gateways.map { String($0.process.pid) }.joined(separator: ","),
            "--redis", cluster.redis.url, "--redis-pid", String(cluster.redis.process.pid),
            "--redis-restart", String(decoding: redisRestart, as: UTF8.self),
            "--api-pid", String(cluster.api.process.pid), "--api-restart", String(decoding: data, as: UTF8.self),
        ]
        let outcome = try await PythonPeer.run("recovery_scenarios.py", arguments, timeout: .seconds(120))
        let logs = cluster.logs
        await cluster.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n\(logs)")
        print(outcome.output.split(separator: "\n").filter { $0.contains("lost") }.joined(separator: "\n"))
    }
}
