import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import SocketIO
import Vocabulary

/// Connection state recovery on Redis (SPEC section 4.1): every gateway restores any session.
///
/// - `herald:recovery:session:<pid>`: the session as JSON (`RecoverableSession.json`), kept
///   while its socket is connected (saved on connect, on each room change and every
///   `refreshInterval`) and for the window after it goes.
/// - `herald:recovery:room:<room>`: a stream per room, one entry per recoverable event
///   (`d`: its data as JSON text), with the event's offset as the entry id.
/// - `herald:recovery:last`: the last offset given; `herald:recovery:published`: the ids of
///   the events published lately, so that a batch published twice goes out once.
///
/// Publishers (the outbox relay's emitter, a gateway's own broadcasts) assign offsets in the
/// publishing script, so every gateway sees the same offset for an event, in the same order.
public final class RedisRecovery: ConnectionRecovery {
    /// Saved at connect and on every change of rooms: a gateway killed with SIGKILL says
    /// nothing, and its sessions must still be in Redis for its clients to come back.
    public var savesConnectedSessions: Bool { true }
    public let limits: RecoveryLimits
    public var window: Duration { limits.window }
    let client: RedisClient
    public static let prefix = "herald:recovery:"
    private let publishScript = RedisScript(RecoveryScripts.publish)
    private let missedScript = RedisScript(RecoveryScripts.missed)
    private let mark = NIOLockedValueBox(RecoveryOffset.zero)

    public init(client: RedisClient, limits: RecoveryLimits) {
        self.client = client
        self.limits = limits
    }

    /// How often a gateway saves its connected sessions again: their keys live this long past
    /// the window, so a gateway killed with SIGKILL leaves sessions that last at least the
    /// window, and a Redis that restarted gets them back.
    public var refreshInterval: Duration { min(.seconds(30), max(.seconds(1), limits.window / 2)) }
    private var connectedTTL: Duration { limits.window + refreshInterval * 2 }

    private static func milliseconds(_ duration: Duration) -> String {
        String(duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    private func key(_ kind: String, _ name: String) -> String { Self.prefix + kind + ":" + name }

    // MARK: Publishing

    /// One message to publish: the adapter message, and whether it wants an offset.
    public struct Outgoing: Sendable {
        public var broadcast: RedisBroadcast
        public var channel: String
        public var asEmitter: Bool
        /// The event's own id, so that a batch published twice goes out once (the relay's).
        public var eventId: String?

        public init(broadcast: RedisBroadcast, channel: String, asEmitter: Bool, eventId: String? = nil) {
            self.broadcast = broadcast
            self.channel = channel
            self.asEmitter = asEmitter
            self.eventId = eventId
        }
    }

    /// Publishes `batch` in order in one round trip; recoverable events get their offsets and
    /// are logged. Returns the offset of each (nil when it got none, or was published before).
    @discardableResult
    public func publish(_ batch: [Outgoing]) async throws -> [RecoveryOffset?] {
        guard !batch.isEmpty else { return [] }
        await client.awaitResubscriptions()
        var arguments: [ByteBuffer] = [
            ByteBuffer(string: Self.prefix), ByteBuffer(string: String(limits.eventsPerRoom)),
            ByteBuffer(string: Self.milliseconds(limits.retention)),
        ]
        for item in batch {
            let packet = item.broadcast.packet, options = item.broadcast.options
            let wants = packet.isRecoverable(options)
            arguments.append(ByteBuffer(string: item.eventId ?? ""))
            arguments.append(ByteBuffer(string: wants ? "1" : "0"))
            arguments.append(ByteBuffer(string: item.channel))
            arguments.append(wants ? item.broadcast.encodedAwaitingOffset(asEmitter: item.asEmitter) : item.broadcast.encoded(asEmitter: item.asEmitter))
            arguments.append(ByteBuffer(string: wants ? packet.data?.jsonString ?? "[]" : ""))
            let rooms = wants ? options.rooms.sorted() : []
            arguments.append(ByteBuffer(string: String(rooms.count)))
            arguments.append(contentsOf: rooms.map { ByteBuffer(string: $0) })
        }
        let reply = try await publishScript.run(on: client, arguments)
        return (reply.array ?? []).map { $0.string.flatMap { RecoveryOffset($0) } }
    }

    /// A broadcast with this offset was delivered here (the subscriber, in Redis' order).
    public func delivered(_ offset: RecoveryOffset) {
        mark.withLockedValue { $0 = max($0, offset) }
    }

    /// Starts the high-water mark at the last offset given, once the node is subscribed, so
    /// that rooms joined before any event arrives do not reach back before the node started.
    public func catchUp() async throws {
        guard let text = try await client.send(RedisCommand("GET", Self.prefix + "last")).string,
              let last = RecoveryOffset(text)
        else { return }
        delivered(last)
    }

    // MARK: ConnectionRecovery

    public func highWaterMark() -> RecoveryOffset {
        mark.withLockedValue { $0 }
    }

    public func save(_ sessions: [RecoverableSession]) async throws {
        guard !sessions.isEmpty else { return }
        let ttl = Self.milliseconds(connectedTTL)
        let commands = sessions.map { session in
            RedisCommand("SET", key("session", session.pid), session.json.jsonString, "PX", ttl)
        }
        for result in await client.send(commands) { _ = try result.get() }
    }

    public func release(pid: String) async throws {
        _ = try await client.send(RedisCommand("PEXPIRE", key("session", pid), Self.milliseconds(limits.window)))
    }

    public func discard(pid: String) async throws {
        _ = try await client.send(RedisCommand("DEL", key("session", pid)))
    }

    /// One pipelined round trip for a turn's worth of released sessions.
    public func release(pids: [String]) async throws {
        let window = Self.milliseconds(limits.window)
        for result in await client.send(pids.map { RedisCommand("PEXPIRE", key("session", $0), window) }) { _ = try result.get() }
    }

    public func discard(pids: [String]) async throws {
        _ = try await client.send(RedisCommand((["DEL"] + pids.map { key("session", $0) }).map { ByteBuffer(string: $0) }))
    }

    public func restore(pid: String) async throws -> RecoverableSession? {
        guard let text = try await client.send(RedisCommand("GET", key("session", pid))).string,
              let json = JSONValue(parsing: text)
        else { return nil }
        return RecoverableSession(pid: pid, json: json)
    }

    public func missedEvents(after offsets: [String: RecoveryOffset]) async throws -> [LoggedEvent]? {
        guard !offsets.isEmpty else { return [] }
        let rooms = offsets.sorted { $0.key < $1.key }
        var arguments = [ByteBuffer(string: Self.prefix)]
        for (room, offset) in rooms {
            arguments.append(ByteBuffer(string: room))
            arguments.append(ByteBuffer(string: offset.description))
        }
        let reply = try await missedScript.run(on: client, arguments)
        guard let perRoom = reply.array, perRoom.count == rooms.count else { throw RedisError("unexpected reply to the missed-events script") }
        var found: [RecoveryOffset: String] = [:]
        for (index, item) in perRoom.enumerated() {
            guard let parts = item.array, parts.count == 2, let trimmedText = parts[0].string,
                  let trimmed = RecoveryOffset(trimmedText)
            else { throw RedisError("unexpected reply to the missed-events script") }
            // An entry after the client's offset was trimmed away: it cannot be made whole.
            guard trimmed <= rooms[index].value else { return nil }
            for entry in parts[1].array ?? [] {
                guard let fields = entry.array, fields.count == 2, let id = fields[0].string.flatMap({ RecoveryOffset($0) }),
                      let values = fields[1].array, values.count == 2, let data = values[1].string
                else { continue }
                found[id] = data
            }
        }
        return found.sorted { $0.key < $1.key }.map { LoggedEvent(offset: $0.key, data: $0.value) }
    }
}
