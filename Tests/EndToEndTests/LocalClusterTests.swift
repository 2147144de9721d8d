import Foundation
import HeraldTesting
import Testing

/// `deploy/local-cluster`: the docker-compose topology on loopback (redis-server, 3 gateways,
/// points-api, nginx), driven through nginx by python-socketio clients (`peers/nginx_scenarios.py`)
/// and by the official socket.io-client in headless Chromium (`peers/browser_scenarios.py`).
@Suite(.serialized) struct LocalClusterTests {
    @Test(arguments: [
        ("nginx_scenarios.py", "nginx_transports"), ("nginx_scenarios.py", "gateway_killed"),
        ("browser_scenarios.py", "gateway_killed_in_browser"), ("webapp_scenarios.py", "webapp_recovers_through_nginx"),
    ])
    func throughNginx(_ script: String, _ name: String) async throws {
        let directory = TestPaths.temporaryFile("cluster")
        // nginx, redis, 3 gateways and the points API on consecutive ports.
        let port = try freeLoopbackPortRange(count: 6)
        let secret = "local-cluster-\(UUID().uuidString)"
        let environment = ["HERALD_CLUSTER_DIR": directory, "HERALD_BIN": TestPaths.heraldBinary, "HERALD_JWT_SECRET": secret]
        let cluster = TestPaths.packageRoot + "/deploy/local-cluster"
        let up = try ChildProcess(cluster, ["up", "--nodes", "3", "--port", String(port)], environment: environment)
        let started = await up.waitForExit(timeout: .seconds(60))
        #expect(started == 0, "\(up.text)")
        if started == 0 {
            let outcome = try await PythonPeer.run(script, [
                name, "--url", "http://127.0.0.1:\(port)", "--secret", secret, "--pids", directory + "/pids",
            ], timeout: .seconds(120))
            #expect(outcome.succeeded, "\(outcome.output)")
            print(outcome.output.split(separator: "\n").filter { $0.contains("lost") }.joined(separator: "\n"))
        }
        let status = try ChildProcess(cluster, ["status"], environment: environment)
        await status.waitForExit(timeout: .seconds(20))
        #expect(status.text.contains("nginx: running"), "\(status.text)")
        let down = try ChildProcess(cluster, ["down"], environment: environment)
        #expect(await down.waitForExit(timeout: .seconds(60)) == 0, "\(down.text)")
        let after = try ChildProcess(cluster, ["status"], environment: environment)
        await after.waitForExit(timeout: .seconds(20))
        #expect(after.text.contains("local-cluster: down"), "\(after.text)")
    }

    /// nginx terminating TLS in front of the cluster (a self-signed certificate made for the test):
    /// python-socketio over WSS and HTTPS long-polling, the points API over HTTPS.
    @Test func tlsThroughNginx() async throws {
        let (cert, key) = try await makeSelfSignedCertificate()
        let directory = TestPaths.temporaryFile("cluster-tls")
        // nginx, redis, 3 gateways, the points API and nginx's TLS port, consecutive.
        let port = try freeLoopbackPortRange(count: 7)
        let secret = "local-cluster-\(UUID().uuidString)"
        let environment = ["HERALD_CLUSTER_DIR": directory, "HERALD_BIN": TestPaths.heraldBinary, "HERALD_JWT_SECRET": secret]
        let cluster = TestPaths.packageRoot + "/deploy/local-cluster"
        let up = try ChildProcess(
            cluster, ["up", "--nodes", "3", "--port", String(port), "--tls-cert", cert, "--tls-key", key], environment: environment
        )
        let started = await up.waitForExit(timeout: .seconds(60))
        #expect(started == 0, "\(up.text)")
        if started == 0 {
            let outcome = try await PythonPeer.run("tls_scenarios.py", [
                "tls_transports", "--url", "https://127.0.0.1:\(port + 6)", "--secret", secret, "--ca", cert,
            ], timeout: .seconds(120))
            #expect(outcome.succeeded, "\(outcome.output)")
        }
        let down = try ChildProcess(cluster, ["down"], environment: environment)
        #expect(await down.waitForExit(timeout: .seconds(60)) == 0, "\(down.text)")
    }
}
