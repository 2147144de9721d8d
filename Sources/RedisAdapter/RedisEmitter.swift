import NIOCore
import RedisClient
import SocketIO

/// Publishes broadcasts only, like `@socket.io/redis-emitter` (uid `emitter`): the points API's
/// outbox relay in a cluster. It throws while Redis is down, so the relay backs off and retries.
public struct RedisEmitter: Broadcaster {
    private let client: RedisClient
    private let channels: RedisChannels

    public init(client: RedisClient, channels: RedisChannels = RedisChannels()) {
        self.client = client
        self.channels = channels
    }

    public func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        let message = RedisBroadcast(uid: RedisBroadcast.emitterUID, packet: packet, options: options).encoded(asEmitter: true)
        try await client.publish(message, to: channels.channel(forRooms: options.rooms))
    }
}
