import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The cluster topology on loopback: a `redis-server`, N gateways and a points-api, each on a
/// free port, all stopped by PID.
public final class HeraldCluster: Sendable {
    public let redis: RedisServer
    public let gateways: [HeraldNode]
    public let api: HeraldNode
    public let secret: String
    /// The points-api's ledger, for a test that starts the API again on it.
    public let apiDatabase: String

    public static func start(gateways count: Int = 3) async throws -> HeraldCluster {
        let secret = "cluster-\(UUID().uuidString)"
        let redis = try await RedisServer.start()
        var gateways: [HeraldNode] = []
        for index in 1...count {
            gateways.append(try await HeraldNode.start(
                "gateway", secret: secret, arguments: ["--redis", redis.url, "--node-id", "gateway-\(index)"]))
        }
        let database = TestPaths.temporaryFile("cluster.sqlite")
        let api = try await HeraldNode.start("points-api", secret: secret, arguments: ["--redis", redis.url, "--db", database])
        let cluster = HeraldCluster(redis: redis, gateways: gateways, api: api, secret: secret, apiDatabase: database)
        try await cluster.waitUntilReady()
        return cluster
    }

    private init(redis: RedisServer, gateways: [HeraldNode], api: HeraldNode, secret: String, apiDatabase: String) {
        self.redis = redis
        self.gateways = gateways
        self.api = api
        self.secret = secret
        self.apiDatabase = apiDatabase
    }

    /// The command line that starts the points-api again, on its port and ledger.
    public var apiRestartCommand: [String] {
        [TestPaths.heraldBinary, "points-api", "--host", "127.0.0.1", "--port", String(api.port), "--jwt-secret", secret,
         "--redis", redis.url, "--db", apiDatabase]
    }

    /// The command line that starts Redis again on its port, empty.
    public var redisRestartCommand: [String] {
        ["redis-server", "--port", String(redis.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    }

    /// Waits (at most 15 s) until every node's `/readyz` answers 200.
    public func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        for node in gateways + [api] {
            while true {
                if let (_, response) = try? await URLSession.shared.data(from: URL(string: node.url + "/readyz")!),
                   (response as? HTTPURLResponse)?.statusCode == 200 { break }
                guard ContinuousClock.now < deadline else { throw TestSupportError("\(node.url) never became ready") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Arguments for `cluster_scenarios.py`.
    public var scenarioArguments: [String] {
        ["--gateways", gateways.map(\.url).joined(separator: ","), "--api", api.url, "--redis", redis.url,
         "--redis-pid", String(redis.process.pid), "--secret", secret]
    }

    /// Every node's output, for a failing test's message.
    public var logs: String {
        (gateways + [api]).map { "--- \($0.url) ---\n\($0.process.text.suffix(2500))" }.joined(separator: "\n")
    }

    public func stop() async {
        for node in gateways + [api] { await node.stop() }
        await redis.stop()
    }
}
