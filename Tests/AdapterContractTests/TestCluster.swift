import CoreMetrics
import HeraldTesting
import Logging
import NIOCore
import NIOPosix
import RedisAdapter
import RedisClient
import SocketIO
import Testing

/// The implementations of the `Adapter` seam the contract runs on.
enum AdapterImplementation: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// One process: a `LocalAdapter` alone.
    case local
    /// Two nodes, each a `RedisAdapter` over its own `LocalAdapter`, on one real redis-server.
    case redis

    var testDescription: String { rawValue }

    /// Runs `body` on a fresh cluster of this implementation, and tears it down after.
    func withCluster(_ body: (TestCluster) async throws -> Void) async throws {
        let cluster: TestCluster
        switch self {
        case .local: cluster = TestCluster(nodes: [.local(name: "A", group: TestCluster.group)])
        case .redis: cluster = try await TestCluster.redis(nodes: 2)
        }
        do {
            try await body(cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}

/// The nodes of one test: the first is the one every call is made on.
final class TestCluster: Sendable {
    static let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    let nodes: [TestNode]
    let redis: RedisServer?
    private let services: [Task<Void, any Error>]

    init(nodes: [TestNode], redis: RedisServer? = nil, services: [Task<Void, any Error>] = []) {
        self.nodes = nodes
        self.redis = redis
        self.services = services
    }

    var first: TestNode { nodes[0] }
    var others: ArraySlice<TestNode> { nodes.dropFirst() }

    /// `count` RedisAdapters on a throwaway redis-server, each subscribed, and each counting all.
    static func redis(nodes count: Int) async throws -> TestCluster {
        let redis = try await RedisServer.start()
        let url = try #require(RedisURL(redis.url))
        var nodes: [TestNode] = [], services: [Task<Void, any Error>] = [], adapters: [RedisAdapter] = []
        for index in 0..<count {
            let metrics = SocketIOMetrics(factory: NOOPMetricsHandler.instance)
            let local = LocalAdapter(group: group, metrics: metrics, logger: Logger(label: "test"))
            let adapter = RedisAdapter(url: url, local: local, group: group, logger: Logger(label: "test"))
            services.append(Task { try await adapter.run() })
            adapters.append(adapter)
            let name = String(UnicodeScalar(UInt8(ascii: "A") + UInt8(index)))
            nodes.append(TestNode(name: name, adapter: adapter, local: local, group: group, metrics: metrics))
        }
        let cluster = TestCluster(nodes: nodes, redis: redis, services: services)
        let ready = await eventually {
            guard adapters.allSatisfy(\.isReady) else { return false }
            return (try? await adapters[0].serverCount()) == count
        }
        if !ready {
            await cluster.stop()
            throw TestSupportError("the Redis adapters did not come up within the bound")
        }
        return cluster
    }

    /// Stops the adapters' connections (they end with the server) and the server, by PID.
    func stop() async {
        for service in services { service.cancel() }
        await redis?.stop()
    }

    /// Makes the same sockets on every node: `rooms` by local id.
    func addSocketsOnEveryNode(_ rooms: [String: [String]]) async throws {
        for node in nodes {
            for (localID, socketRooms) in rooms.sorted(by: { $0.key < $1.key }) {
                try await node.addSocket(localID, rooms: socketRooms)
            }
        }
    }

    /// Every socket of every node.
    func snapshot() async throws -> [String: SocketState] {
        var states: [String: SocketState] = [:]
        for node in nodes { states.merge(try await node.snapshot()) { first, _ in first } }
        return states
    }

    /// Waits (bounded) until what `project` shows of every socket is `expected`, then a little
    /// longer, so that a late wrong effect (a second copy, a stray join) is seen too.
    func expect<Value: Equatable & Sendable>(
        _ project: @Sendable (SocketState) -> Value,
        _ expected: [String: Value],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        func current() async throws -> [String: Value] { try await snapshot().mapValues(project) }
        _ = await eventually { (try? await current()) == expected }
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await current() == expected, sourceLocation: sourceLocation)
    }

    /// `values` by local id, for the sockets of every node.
    func onEveryNode<Value>(_ values: [String: Value]) -> [String: Value] {
        on(nodes[...], values)
    }

    /// `values` by local id, for the sockets of `nodes`.
    func on<Value>(_ nodes: ArraySlice<TestNode>, _ values: [String: Value]) -> [String: Value] {
        var result: [String: Value] = [:]
        for node in nodes {
            for (localID, value) in values { result[node.id(localID)] = value }
        }
        return result
    }
}

/// Polls `condition` every 20 ms for at most `timeout`; true when it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
