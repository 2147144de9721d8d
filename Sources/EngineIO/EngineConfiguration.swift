import NIOCore

/// The knobs of the Engine.IO server; the defaults are those of the Node server and SPEC section 2.
public struct EngineConfiguration: Sendable {
    /// How often the server pings (Engine.IO v4: the server pings, the client answers).
    public var pingInterval: TimeAmount = .milliseconds(25_000)
    /// How long a ping may stay unanswered before the session is closed.
    public var pingTimeout: TimeAmount = .milliseconds(20_000)
    /// The largest message, WebSocket frame or polling body accepted, in bytes.
    public var maxPayload: Int = 1_000_000
    /// How long a WebSocket probe may take to send its `5` upgrade packet.
    public var upgradeTimeout: TimeAmount = .seconds(10)
    /// Bytes queued for a socket that does not read before it is disconnected (SPEC 5.2).
    public var maxQueuedBytes: Int = 1 << 20
    /// The origins allowed by CORS and for WebSocket upgrades.
    public var cors: CORSPolicy = .anyOrigin

    public init() {}

    /// The JSON data of the open packet sent at the handshake.
    func openPacketData(sid: String, upgrades: [TransportName]) -> String {
        let list = upgrades.map { "\"\($0.rawValue)\"" }.joined(separator: ",")
        return #"{"sid":"\#(sid)","upgrades":[\#(list)],"pingInterval":\#(pingInterval.milliseconds),"#
            + #""pingTimeout":\#(pingTimeout.milliseconds),"maxPayload":\#(maxPayload)}"#
    }
}

extension TimeAmount {
    var milliseconds: Int64 { nanoseconds / 1_000_000 }
}

/// Which browser origins may talk to the server.
///
/// The default allows any origin without credentials (SPEC section 2): tokens travel in the
/// Socket.IO auth payload, never in cookies, so there is nothing for a foreign page to ride on.
public enum CORSPolicy: Sendable, Equatable {
    case anyOrigin
    case origins(Set<String>)

    /// Parses the comma-separated `--cors-origin` value; `*` or nothing means any origin.
    public init(list: String?) {
        let items = (list ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        if items.isEmpty || items.contains("*") {
            self = .anyOrigin
        } else {
            self = .origins(Set(items))
        }
    }

    /// Whether a request with this `Origin` header may proceed; requests without one
    /// (not from a browser) always may.
    public func allows(origin: String?) -> Bool {
        guard let origin, case .origins(let allowed) = self else { return true }
        return allowed.contains(origin)
    }

    /// The `Access-Control-Allow-Origin` value for a request, if any.
    func allowOriginHeader(for origin: String?) -> String? {
        switch self {
        case .anyOrigin: return "*"
        case .origins(let allowed):
            guard let origin, allowed.contains(origin) else { return nil }
            return origin
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// The two transports of Engine.IO v4.
public enum TransportName: String, Sendable {
    case polling
    case websocket
}

/// Why a session ended, in the words the Node server uses.
public enum EngineCloseReason: String, Sendable {
    case transportClose = "transport close"
    case transportError = "transport error"
    case pingTimeout = "ping timeout"
    case parseError = "parse error"
    case forcedClose = "forced close"
    case serverShutdown = "server shutting down"
}
