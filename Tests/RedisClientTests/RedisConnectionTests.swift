import HeraldTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import RedisClient

/// The client against a real redis-server: pipelining, AUTH and SELECT, the three kinds of
/// subscription, and reconnection with resubscription after Redis restarts.
@Suite(.serialized) struct RedisConnectionTests {
    let logger = Logger(label: "test")

    /// Runs `body` with a client (and its service running) against `url`.
    func withClient(_ url: RedisURL, _ body: (RedisClient) async throws -> Void) async throws {
        let client = RedisClient(url: url, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let running = Task { try await client.run() }
        defer { running.cancel() }
        #expect(await client.waitUntilConnected(timeout: .seconds(5)))
        try await body(client)
    }

    @Test func pipelinedCommandsAnswerInOrder() async throws {
        let redis = try await RedisServer.start()
        try await withClient(RedisURL("\(redis.url)/3")!) { (client: RedisClient) async throws in
            let replies = try await withThrowingTaskGroup(of: (Int, RESPValue).self) { group in
                for index in 0..<200 {
                    group.addTask { (index, try await client.send(RedisCommand("INCR", "counter-\(index % 7)"))) }
                }
                return try await group.reduce(into: [Int: RESPValue]()) { $0[$1.0] = $1.1 }
            }
            #expect(replies.count == 200)
            #expect(try await client.send(RedisCommand("GET", "counter-0")).string == "29")
            await #expect(throws: RedisError.self) { try await client.send(RedisCommand("NOSUCHCOMMAND")) }
            // SELECT 3 happened: database 0 does not have the key.
            #expect(try await client.send(RedisCommand("SELECT", "0")) == .simpleString("OK"))
            #expect(try await client.send(RedisCommand("EXISTS", "counter-0")) == .integer(0))
        }
        await redis.stop()
    }

    /// A batch goes out in order, one result per command, an error reply in place.
    @Test func batchesKeepTheirOrder() async throws {
        let redis = try await RedisServer.start()
        try await withClient(RedisURL(redis.url)!) { (client: RedisClient) async throws in
            let key = "list-\(UInt32.random(in: 0...UInt32.max))"
            var commands = (0..<300).map { RedisCommand("RPUSH", key, "\($0)") }
            commands.insert(RedisCommand("NOSUCHCOMMAND"), at: 150)
            let results = await client.send(commands)
            #expect(results.count == 301)
            #expect(try results[0].get() == .integer(1) && results[300].get() == .integer(300))
            #expect(throws: RedisError.self) { try results[150].get() }
            let list = try await client.send(RedisCommand("LRANGE", key, "0", "-1"))
            #expect(list.array?.compactMap(\.string) == (0..<300).map { "\($0)" })
        }
        await redis.stop()
    }

    @Test func authenticatesWithThePasswordOfTheURL() async throws {
        let redis = try await RedisServer.start(password: "s3cret")
        try await withClient(RedisURL("redis://:s3cret@127.0.0.1:\(redis.port)")!) { (client: RedisClient) async throws in
            #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
        }
        let refused = RedisClient(url: RedisURL("redis://:wrong@127.0.0.1:\(redis.port)")!, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let running = Task { try await refused.run() }
        #expect(await !refused.waitUntilConnected(timeout: .seconds(1)))
        running.cancel()
        await redis.stop()
    }

    @Test func subscriberGetsEveryKindAndResubscribesAfterARestart() async throws {
        var redis = try await RedisServer.start()
        let url = RedisURL(redis.url)!
        let received = NIOLockedValueBox<[String]>([])
        let subscriber = RedisSubscriber(
            url: url, group: MultiThreadedEventLoopGroup.singleton,
            subscriptions: [.channel("plain"), .pattern("pat#*"), .shardChannel("shard")], logger: logger
        ) { message in
            received.withLockedValue { $0.append("\(String(buffer: message.channel))=\(String(buffer: message.payload))") }
        }
        let running = Task { try await subscriber.run() }
        defer { running.cancel() }
        #expect(await subscriber.waitUntilSubscribed(timeout: .seconds(5)))
        try await withClient(url) { (client: RedisClient) async throws in
            try await client.publish(ByteBuffer(string: "1"), to: "plain")
            try await client.publish(ByteBuffer(string: "2"), to: "pat#room#")
            _ = try await client.send(RedisCommand("SPUBLISH", "shard", "3"))
            try await client.publish(ByteBuffer(string: "nobody"), to: "elsewhere")
        }
        try await waitFor { received.withLockedValue { $0.count } >= 3 }
        #expect(received.withLockedValue { $0 } == ["plain=1", "pat#room#=2", "shard=3"])

        // Redis goes away and comes back on the same port: the subscriber is back within 5 s.
        let port = redis.port
        await redis.stop()
        try await waitFor { !subscriber.isSubscribed }
        redis = try await RedisServer.start(port: port)
        #expect(await subscriber.waitUntilSubscribed(timeout: .seconds(5)))
        try await withClient(url) { (client: RedisClient) async throws in
            try await client.publish(ByteBuffer(string: "4"), to: "plain")
        }
        try await waitFor { received.withLockedValue { $0.count } >= 4 }
        #expect(received.withLockedValue { $0.last } == "plain=4")
        await redis.stop()
    }

    /// After a Redis restart a publisher waits `resubscribeGrace` before it publishes, so that
    /// subscribers that lost Redis with it are back: the first message after the outage arrives.
    @Test func aPublisherBackFromALossWaitsForTheSubscribers() async throws {
        var redis = try await RedisServer.start()
        let url = RedisURL(redis.url)!
        let received = NIOLockedValueBox<[String]>([])
        let subscriber = RedisSubscriber(
            url: url, group: MultiThreadedEventLoopGroup.singleton, subscriptions: [.channel("plain")], logger: logger
        ) { message in
            received.withLockedValue { $0.append(String(buffer: message.payload)) }
        }
        let subscribing = Task { try await subscriber.run() }
        defer { subscribing.cancel() }
        #expect(await subscriber.waitUntilSubscribed(timeout: .seconds(5)))
        let client = RedisClient(url: url, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let running = Task { try await client.run() }
        defer { running.cancel() }
        try await waitFor { client.isConnected }
        let first = ContinuousClock.now
        await client.awaitResubscriptions()
        #expect(ContinuousClock.now - first < .milliseconds(200), "no wait after the first connect")

        let port = redis.port
        await redis.stop()
        try await waitFor { !client.isConnected }
        redis = try await RedisServer.start(port: port)
        try await waitFor { client.isConnected }
        let back = ContinuousClock.now
        await client.awaitResubscriptions()
        #expect(ContinuousClock.now - back >= .milliseconds(400), "published before the subscribers could be back")
        try await client.publish(ByteBuffer(string: "after"), to: "plain")
        try await waitFor { received.withLockedValue { $0.count } >= 1 }
        #expect(received.withLockedValue { $0 } == ["after"])
        await redis.stop()
    }

    @Test func commandsFailFastWhileRedisIsDown() async throws {
        let port = try freeLoopbackPort()
        let client = RedisClient(url: RedisURL(port: port), group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let running = Task { try await client.run() }
        defer { running.cancel() }
        await #expect(throws: RedisUnavailable.self) { try await client.send(RedisCommand("PING")) }
    }

    private func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }
}

/// Reconnect backoff: doubling from 50 ms to its cap; the subscriber's cap is a quarter second
/// (pub/sub loses what is published while it is away), a command connection's 2 s (SPEC 5.2).
@Suite struct ReconnectPolicyTests {
    @Test func backoffDoublesUpToItsCap() async {
        var subscriber = ReconnectPolicy(name: "subscriber", logger: Logger(label: "test"), maxDelay: RedisSubscriber.maxReconnectDelay)
        var waits: [Duration] = []
        for _ in 0..<4 {
            waits.append(subscriber.delay)
            await subscriber.pause()
        }
        #expect(waits == [.milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(250)])
        #expect(subscriber.delay == .milliseconds(250))
        #expect(ReconnectPolicy(name: "commands", logger: Logger(label: "test")).maxDelay == .seconds(2))
    }
}
