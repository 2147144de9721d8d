import EngineIO
import Vocabulary

/// The product's hooks into the default namespace `/`.
public protocol SocketIONamespace: Sendable {
    /// What a successful CONNECT yields for `connect` (Herald: the verified token claims).
    associatedtype Grant: Sendable

    /// Decides a CONNECT from its auth payload and the handshake; a refusal becomes CONNECT_ERROR.
    /// Runs on the connection's event loop, so it must not block: Herald's is an HMAC and a JSON
    /// decode (a hop to a task and back cost more than that on every connect).
    func authorize(auth: JSONValue?, handshake: HandshakeRequest) -> Result<Grant, ConnectRefusal>

    /// Who a grant is for: a session may be restored only by a grant of the same owner (SPEC 4.1:
    /// the token's `sub`).
    func sessionOwner(of grant: Grant) -> String

    /// Runs on the socket's loop once the client has its CONNECT answer (and, when `recovered`,
    /// the events it missed); returns the socket's delegate.
    func connect(_ socket: SocketIOSocket, grant: Grant, recovered: Bool) -> any SocketDelegate
}

/// A refused CONNECT: the client receives `44{"message": ...}`.
public struct ConnectRefusal: Error, Sendable, Equatable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }
}
