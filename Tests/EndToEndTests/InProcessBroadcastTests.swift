import Foundation
import EngineIO
import Gateway
import HTTPServer
import HeraldAuth
import HeraldTesting
import Logging
import Prometheus
import NIOCore
import NIOPosix
import Notifications
import SocketIO
import Testing
import Vocabulary

/// The broadcast engine with real clients: a `GatewayNode` runs in this process (the same
/// type `herald serve` runs) so the test can call its adapter directly, while python-socketio
/// clients listen over WebSocket and long-polling.
@Suite struct InProcessBroadcastTests {
    @Test func broadcastReachesExactlyTheSelectedSocketsOnce() async throws {
        let secret = "in-process-\(UUID().uuidString)"
        let prefix = "p\(UUID().uuidString.prefix(8))"
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let gateway = GatewayNode(
            nodeId: "in-process",
            engine: EngineConfiguration(),
            group: group,
            authority: await TokenAuthority(secret: secret),
            notifications: MemoryNotificationStore(),
            registry: PrometheusCollectorRegistry(),
            logger: Logger(label: "test")
        )
        let server = HTTPNodeServer(
            configuration: .init(host: "127.0.0.1", port: 0),
            group: group,
            endpoints: [gateway.engine],
            upgraders: { gateway.upgraders() },
            logger: Logger(label: "test")
        )
        let running = Task { try await server.run() }
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        while server.localAddress == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let port = try #require(server.localAddress?.port)

        let peer = try ChildProcess(TestPaths.python, [
            TestPaths.scenario("listeners.py"), "--url", "http://127.0.0.1:\(port)", "--secret", secret, "--prefix", prefix,
        ])
        _ = try await peer.waitForLine(containing: "ready")
        let adapter = gateway.adapter
        try await adapter.broadcast(.event("points_added", [["n": 1]]),
                                    options: BroadcastOptions(rooms: ["guest:\(prefix)-g1", "restaurant:\(prefix)-r1"]))
        try await adapter.broadcast(.event("system_alert", [["n": 2]]), options: BroadcastOptions(rooms: ["admin"]))
        try await adapter.broadcast(.event("not_admins", []), options: BroadcastOptions(except: ["admin"]))
        try await adapter.broadcast(.event("both_rooms", []),
                                    options: BroadcastOptions(rooms: ["user:\(prefix)-g1", "guest:\(prefix)-g1"]))
        try await adapter.broadcast(.event("nobody", []), options: BroadcastOptions(rooms: ["guest:\(prefix)-nobody"]))
        try await adapter.broadcast(.event("done", []), options: BroadcastOptions())
        let code = await peer.waitForExit(timeout: .seconds(30))
        #expect(code == 0, "\(peer.text)")

        let line = try #require(peer.text.split(separator: "\n").last)
        let received = try JSONDecoder().decode([String: [String]].self, from: Data(line.utf8))
        #expect(received == [
            "g1_websocket": ["points_added", "not_admins", "both_rooms"],
            "g1_polling": ["points_added", "not_admins", "both_rooms"],
            "g2": ["not_admins"],
            "staff": ["points_added", "not_admins"],
            "admin": ["system_alert"],
        ])
        running.cancel()
        _ = await running.result
        try await group.shutdownGracefully()
    }
}

/// SIGTERM: the node closes every session properly (clients see the transport close at once)
/// and exits 0 within 10 s (SPEC 5.2).
@Suite struct GracefulShutdownTests {
    @Test func sigtermClosesSessionsAndExitsZero() async throws {
        let node = try await HeraldNode.start()
        let peer = try ChildProcess(TestPaths.python, [
            TestPaths.scenario("shutdown_watch.py"), "--url", node.url, "--secret", node.secret,
        ])
        _ = try await peer.waitForLine(containing: "ready")
        let started = ContinuousClock.now
        await node.stop()
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(node.process.exitCode == 0, "\(node.process.text.suffix(2000))")
        #expect(await peer.waitForExit(timeout: .seconds(20)) == 0, "\(peer.text)")
        #expect(peer.text.contains("disconnected after"))
    }

    /// The nodes of a cluster too, with connection state recovery on (the default): each exits 0
    /// soon after SIGTERM, with Redis up and with Redis gone.
    @Test(arguments: ["gateway", "points-api"], [true, false])
    func clusterNodesExitOnSIGTERM(_ subcommand: String, redisUp: Bool) async throws {
        let redis = try await RedisServer.start()
        let ledger = subcommand == "points-api" ? ["--db", TestPaths.temporaryFile("api.sqlite")] : []
        let node = try await HeraldNode.start(subcommand, arguments: ["--redis", redis.url] + ledger)
        if !redisUp { await redis.stop() }
        let started = ContinuousClock.now
        await node.stop()
        #expect(ContinuousClock.now - started < .seconds(8), "\(subcommand) took \(ContinuousClock.now - started)")
        #expect(node.process.exitCode == 0, "\(node.process.text.suffix(2000))")
        await redis.stop()
    }
}
