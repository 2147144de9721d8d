import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisAdapter
import RedisClient
import SocketIO
import Testing
import Vocabulary

/// A bare Redis peer in the Node adapter's place: it publishes requests and broadcasts as bytes
/// of its own making, and hears every response (shared and per-uid response channels).
final class RawRedisPeer: Sendable {
    let client: RedisClient
    let channels = RedisChannels()
    private let subscriber: RedisSubscriber
    private let heard = NIOLockedValueBox<[JSONValue]>([])
    private let services: [Task<Void, any Error>]

    init(url: RedisURL) async throws {
        let group = MultiThreadedEventLoopGroup.singleton, logger = Logger(label: "raw-peer")
        client = RedisClient(url: url, group: group, logger: logger, name: "raw")
        let heard = self.heard
        subscriber = RedisSubscriber(
            url: url, group: group, subscriptions: [.pattern(channels.response + "*")], logger: logger
        ) { message in
            let text = String(buffer: message.payload)
            heard.withLockedValue { $0.append(JSONValue(parsing: text) ?? .string(text)) }
        }
        let client = self.client, subscriber = self.subscriber
        services = [Task { try await client.run() }, Task { try await subscriber.run() }]
        guard await client.waitUntilConnected(timeout: .seconds(10)),
              await subscriber.waitUntilSubscribed(timeout: .seconds(10))
        else { throw TestSupportError("the raw Redis peer did not connect") }
    }

    func stop() {
        for service in services { service.cancel() }
    }

    /// Publishes `json` as it is written on the request channel.
    func request(_ json: String) async throws {
        try await client.publish(ByteBuffer(string: json), to: channels.request)
    }

    /// Publishes raw bytes as a broadcast on `channel` (the shared broadcast channel by default).
    func broadcast(_ bytes: ByteBuffer, on channel: String? = nil) async throws {
        try await client.publish(bytes, to: channel ?? channels.broadcast)
    }

    /// Every response heard for `requestId` so far.
    func responses(to requestId: String) -> [JSONValue] {
        heard.withLockedValue { $0.filter { $0["requestId"]?.stringValue == requestId } }
    }

    /// The first response for `requestId`, waiting a bounded time.
    func response(to requestId: String, timeout: Duration = .seconds(10)) async -> JSONValue? {
        _ = await eventually(timeout: timeout) { !responses(to: requestId).isEmpty }
        return responses(to: requestId).first
    }

    /// Asks a fetch of everyone and waits for its answer: the node has handled what was
    /// published before (requests are answered in tasks, so a short pause follows).
    func fence() async throws {
        let requestId = "fence-\(UInt64.random(in: 0...UInt64.max))"
        try await request(#"{"uid":"rawpeer","type":5,"requestId":"\#(requestId)","opts":{"rooms":[],"except":[]}}"#)
        #expect(await response(to: requestId) != nil, "the node did not answer the fence")
        try await Task.sleep(for: .milliseconds(200))
    }
}

/// One Redis adapter node with the raw peer beside it, the sockets of the contract on the node.
struct RawPeerFixture {
    let cluster: TestCluster
    let peer: RawRedisPeer
    var node: TestNode { cluster.first }

    static func with(_ body: (RawPeerFixture) async throws -> Void) async throws {
        let cluster = try await TestCluster.redis(nodes: 1)
        do {
            try await cluster.addSocketsOnEveryNode(AdapterContractTests.sockets)
            let redis = try #require(cluster.redis)
            let url = try #require(RedisURL(redis.url))
            let peer = try await RawRedisPeer(url: url)
            defer { peer.stop() }
            try await body(RawPeerFixture(cluster: cluster, peer: peer))
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    /// The node's sockets as they were made.
    var initialState: [String: SocketState] {
        cluster.onEveryNode(AdapterContractTests.initialRooms.mapValues {
            SocketState(rooms: $0, connected: true, closed: false, received: [])
        })
    }

    func id(_ localID: String) -> String { node.id(localID) }
}
