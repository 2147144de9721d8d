import EngineIO
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The Socket.IO server of the default namespace on top of an `EngineServer`.
public final class SocketIOServer<Namespace: SocketIONamespace>: Sendable {
    public let adapter: LocalAdapter
    let namespace: Namespace
    let metrics: SocketIOMetrics
    /// How long a session may stay without joining a namespace (Node's `connectTimeout`).
    let connectTimeout: TimeAmount
    /// Connection state recovery (SPEC section 4.1); nil when it is off.
    let recovery: (any ConnectionRecovery)?
    /// Each event loop's batch of session writes, made on its first recoverable socket.
    private let sessionWrites = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<SessionWrites>]>([:])

    public init(
        namespace: Namespace,
        adapter: LocalAdapter,
        metrics: SocketIOMetrics,
        recovery: (any ConnectionRecovery)? = nil,
        connectTimeout: TimeAmount = .seconds(45)
    ) {
        self.namespace = namespace
        self.adapter = adapter
        self.metrics = metrics
        self.recovery = recovery
        self.connectTimeout = connectTimeout
    }

    /// The session writes of `eventLoop`'s sockets; nil when recovery is off.
    func sessionWrites(on eventLoop: any EventLoop) -> SessionWrites? {
        guard let recovery else { return nil }
        return sessionWrites.withLockedValue { all in
            if let writes = all[ObjectIdentifier(eventLoop)] { return writes.value }
            let writes = SessionWrites(eventLoop: eventLoop, recovery: recovery)
            all[ObjectIdentifier(eventLoop)] = NIOLoopBound(writes, eventLoop: eventLoop)
            return writes
        }
    }

    /// Takes a new Engine.IO session; pass this as the `EngineServer`'s `onConnection`.
    public func accept(_ engine: EngineSocket) {
        engine.delegate = SocketIOConnection(
            engine: engine,
            server: self,
            registry: adapter.registry(on: engine.eventLoop)
        )
    }
}
