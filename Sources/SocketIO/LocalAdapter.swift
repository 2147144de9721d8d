import CoreMetrics
import EngineIO
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The adapter of one process: room membership sharded by event loop, no global lock.
///
/// A broadcast is encoded once, into a complete WebSocket frame and its polling form, then hops
/// once to each event loop that may hold one of its rooms (`RoomPresence`), where that loop's
/// `RoomRegistry` yields every selected socket once.
///
/// Broadcasts that pile up while a loop is busy are written together: each member gets every
/// frame of the batch and one flush, so a fan-out under load costs one write(2) per socket per
/// batch rather than per message (the kernel's loopback/TCP send path was two thirds of a
/// fan-out profile when every frame was flushed alone).
public final class LocalAdapter: Adapter, ImmediateBroadcaster {
    /// One event loop, the registry of the sockets living on it, and the broadcasts waiting
    /// for that loop.
    struct Shard: Sendable {
        let eventLoop: any EventLoop
        let registry: NIOLoopBoundBox<RoomRegistry>
        let presence: RoomPresence
        let waiting: NIOLockedValueBox<Waiting>
    }

    struct Waiting {
        var pending: [Pending] = []
        var drainScheduled = false
    }

    typealias Pending = (message: PreparedMessage, options: BroadcastOptions, offset: RecoveryOffset?)
    /// Broadcasts in a row of one drain with the same selection.
    typealias Run = ArraySlice<Pending>

    let shards: [Shard]
    private let metrics: SocketIOMetrics
    private let logger: Logger
    private let broadcastLog = BroadcastLog()
    /// Under `serve`, where recoverable broadcasts get their offsets and are logged.
    public let recoveryLog: MemoryRecovery?

    public init(group: any EventLoopGroup, metrics: SocketIOMetrics, logger: Logger, recoveryLog: MemoryRecovery? = nil) {
        self.shards = group.makeIterator().map { loop in
            let presence = RoomPresence()
            return Shard(
                eventLoop: loop, registry: .makeBoxSendingValue(RoomRegistry(presence: presence), eventLoop: loop),
                presence: presence, waiting: .init(Waiting())
            )
        }
        self.metrics = metrics
        self.logger = logger
        self.recoveryLog = recoveryLog
    }

    /// The registry of `eventLoop`; call on that loop.
    public func registry(on eventLoop: any EventLoop) -> RoomRegistry {
        guard let shard = shards.first(where: { $0.eventLoop === eventLoop }) else {
            preconditionFailure("event loop outside the adapter's group")
        }
        return shard.registry.value
    }

    /// Delivers to this process's sockets; with a recovery log, a recoverable event first gets
    /// its offset and is logged.
    public func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async throws {
        broadcastNow(packet, options: options)
    }

    public func broadcast(_ batch: [Broadcast]) async throws {
        broadcastNow(batch)
    }

    /// Delivery in this process never waits and never fails.
    public var immediate: (any ImmediateBroadcaster)? { self }

    public func broadcastNow(_ batch: [Broadcast]) {
        for item in batch { broadcastNow(item.packet, options: item.options) }
    }

    private func broadcastNow(_ packet: SocketIOPacket, options: BroadcastOptions) {
        if let recoveryLog, packet.isRecoverable(options) {
            recoveryLog.record(packet, rooms: options.rooms) { offset in deliver(packet, options: options, offset: offset) }
        } else {
            deliver(packet, options: options)
        }
    }

    /// Delivers to this process's sockets; the synchronous core of `broadcast`, also used by
    /// cluster adapters for what arrives from other nodes. An event with an offset carries it
    /// as its last argument (SPEC section 4.1), the same bytes for every recipient.
    public func deliver(_ packet: SocketIOPacket, options: BroadcastOptions, offset: RecoveryOffset? = nil) {
        deliver(named: packet.eventName, options: options, offset: offset) {
            let sent = offset.map { packet.withOffset($0) } ?? packet
            return PreparedMessage(message: ByteBuffer(string: sent.encoded), attachments: packet.attachments)
        }
    }

    /// Delivers an EVENT already in its Socket.IO text form, its offset (if any) in it as its last
    /// argument: what a cluster adapter writes straight from a broadcast's bytes.
    public func deliver(eventText text: ByteBuffer, named name: String, options: BroadcastOptions, offset: RecoveryOffset?) {
        deliver(named: name, options: options, offset: offset) { PreparedMessage(message: text) }
    }

    private func deliver(named name: String?, options: BroadcastOptions, offset: RecoveryOffset?, prepare: () -> PreparedMessage) {
        metrics.broadcasts.increment()
        broadcastLog.record(name, options: options, logger: logger)
        // A broadcast for none of this process's loops is not even encoded.
        let woken = shards(mayHolding: options)
        guard !woken.isEmpty else { return }
        let message = prepare()
        let metrics = self.metrics
        for shard in woken {
            let mustSchedule = shard.waiting.withLockedValue { waiting in
                waiting.pending.append((message, options, offset))
                defer { waiting.drainScheduled = true }
                return !waiting.drainScheduled
            }
            if mustSchedule {
                shard.eventLoop.execute { Self.drain(shard, metrics: metrics) }
            }
        }
    }

    /// False when no socket of this process can be selected by `options` (a filter: true may
    /// still select nobody).
    public func mayReach(_ options: BroadcastOptions) -> Bool {
        !shards(mayHolding: options).isEmpty
    }

    /// To rooms (not to everyone): only the loops that may have a member of one.
    private func shards(mayHolding options: BroadcastOptions) -> [Shard] {
        guard !options.rooms.isEmpty else { return shards }
        let slots = options.rooms.map(RoomPresence.slot(of:))
        return shards.filter { $0.presence.mayHaveAny(of: slots) }
    }

    /// Writes every broadcast waiting for `shard`, then flushes each socket written to once.
    private static func drain(_ shard: Shard, metrics: SocketIOMetrics) {
        let batch = shard.waiting.withLockedValue { waiting in
            waiting.drainScheduled = false
            defer { waiting.pending.removeAll(keepingCapacity: true) }
            return waiting.pending
        }
        let registry = shard.registry.value
        var written: [SocketIOSocket] = []
        var delivered = 0
        for run in runs(of: batch) {
            // The same sockets take every broadcast of the run: each gets them as one buffer, one
            // write. A write per message per member was most of a saturated fan-out (NIO's
            // pending-write ring, and each member's objects fetched cold once per message).
            var combined: PreparedMessage?
            func make() -> PreparedMessage {
                if let combined { return combined }
                let made = PreparedMessage(concatenating: run.lazy.map(\.message))
                combined = made
                return made
            }
            registry.forEach(matching: run[run.startIndex].options) { socket in
                if socket.write(run, combined: make) { written.append(socket) }
                delivered += run.count
            }
        }
        for socket in written { socket.flush() }
        if delivered > 0 { metrics.packetsSent.increment(by: Int64(delivered)) }
    }

    /// `batch` cut where the selection changes, in order.
    static func runs(of batch: [Pending]) -> [Run] {
        var runs: [Run] = []
        var start = batch.startIndex
        while start < batch.endIndex {
            var end = start + 1
            while end < batch.endIndex, batch[end].options == batch[start].options { end += 1 }
            runs.append(batch[start..<end])
            start = end
        }
        return runs
    }

    public func addSockets(_ options: BroadcastOptions, rooms: Set<String>) async throws {
        _ = try await onEveryLoop { registry in
            registry.forEach(matching: options) { socket in rooms.forEach(socket.join) }
        }
    }

    public func delSockets(_ options: BroadcastOptions, rooms: Set<String>) async throws {
        _ = try await onEveryLoop { registry in
            registry.forEach(matching: options) { socket in rooms.forEach(socket.leave) }
        }
    }

    public func disconnectSockets(_ options: BroadcastOptions, close: Bool) async throws {
        _ = try await onEveryLoop { registry in
            var selected: [SocketIOSocket] = []
            registry.forEach(matching: options) { selected.append($0) }
            for socket in selected { socket.disconnect(closeConnection: close) }
        }
    }

    public func fetchSockets(_ options: BroadcastOptions) async throws -> [SocketDetails] {
        try await onEveryLoop { registry in
            var found: [SocketDetails] = []
            registry.forEach(matching: options) { found.append($0.details) }
            return found
        }.flatMap { $0 }
    }

    public func serverCount() async throws -> Int { 1 }

    /// The names of the rooms with members in this process (for the rooms gauge).
    public func roomNames() async throws -> Set<String> {
        try await onEveryLoop { Set($0.roomNames) }.reduce(into: Set()) { $0.formUnion($1) }
    }

    /// The number of sockets in this process.
    public func socketCount() async throws -> Int {
        try await onEveryLoop { $0.socketCount }.reduce(0, +)
    }

    fileprivate func onEveryLoop<Result: Sendable>(
        _ body: @escaping @Sendable (RoomRegistry) -> Result
    ) async throws -> [Result] {
        var results: [Result] = []
        for shard in shards {
            if shard.eventLoop.inEventLoop {
                results.append(body(shard.registry.value))
            } else {
                results.append(try await shard.eventLoop.submit { body(shard.registry.value) }.get())
            }
        }
        return results
    }
}

extension LocalAdapter {
    /// The sessions of every connected socket that has one (recovery's periodic save).
    public func recoverableSessions() async -> [RecoverableSession] {
        (try? await onEveryLoop { registry in
            registry.sockets.values.compactMap { socket in socket.session.map { $0.snapshot(of: socket) } }
        }.flatMap { $0 }) ?? []
    }

    /// Closes every connected socket's Engine.IO session with a proper close, so that clients
    /// reconnect at once (graceful shutdown).
    public func closeAllSessions() async {
        _ = try? await onEveryLoop { registry in
            for socket in Array(registry.sockets.values) {
                socket.engine.close(reason: .serverShutdown, notifyPeer: true)
            }
        }
    }
}
