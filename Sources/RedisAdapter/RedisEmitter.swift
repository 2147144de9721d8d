import NIOCore
import RedisClient
import SocketIO

/// Publishes broadcasts only, like `@socket.io/redis-emitter` (uid `emitter`): the points API's
/// outbox relay in a cluster. It throws while Redis is down, so the relay backs off and retries.
public struct RedisEmitter: Broadcaster {
    private let client: RedisClient
    private let channels: RedisChannels
    /// With connection state recovery, batches go through its publishing script (offsets,
    /// room logs, one copy of a batch published twice); else plain pipelined PUBLISHes.
    private let recovery: RedisRecovery?

    public init(client: RedisClient, channels: RedisChannels = RedisChannels(), recovery: RedisRecovery? = nil) {
        self.client = client
        self.channels = channels
        self.recovery = recovery
    }

    public func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        if recovery != nil { return try await broadcast([Broadcast(packet, options: options)]) }
        await client.awaitResubscriptions()
        try await client.publish(message(packet, options: options), to: channels.channel(forRooms: options.rooms))
    }

    /// Every PUBLISH of the batch pipelined on the one connection, so Redis takes them in order
    /// without a round trip each (the outbox relay's throughput was one round trip per event).
    public func broadcast(_ batch: [Broadcast]) async throws {
        if let recovery {
            // One script call: all of the batch or, if Redis fails part way, a retry of the
            // whole batch in which what went out is recognised by its event id and skipped.
            do {
                try await recovery.publish(batch.map { item in
                    RedisRecovery.Outgoing(
                        broadcast: RedisBroadcast(uid: RedisBroadcast.emitterUID, packet: item.packet, options: item.options),
                        channel: channels.channel(forRooms: item.options.rooms), asEmitter: true, eventId: item.eventId
                    )
                })
            } catch {
                throw BatchBroadcastError(handedOn: 0, underlying: error)
            }
            return
        }
        let commands = batch.map { item in
            RedisClient.publishCommand(message(item.packet, options: item.options), to: channels.channel(forRooms: item.options.rooms))
        }
        await client.awaitResubscriptions()
        let results = await client.send(commands)
        if let failed = results.firstIndex(where: { if case .failure = $0 { true } else { false } }),
           case .failure(let error) = results[failed] {
            throw BatchBroadcastError(handedOn: failed, underlying: error)
        }
    }

    private func message(_ packet: SocketIOPacket, options: BroadcastOptions) -> ByteBuffer {
        RedisBroadcast(uid: RedisBroadcast.emitterUID, packet: packet, options: options).encoded(asEmitter: true)
    }
}
