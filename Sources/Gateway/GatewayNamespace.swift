import EngineIO
import HeraldAuth
import Logging
import Notifications
import SocketIO
import Vocabulary

/// Herald's default namespace: JWT auth on CONNECT, then a `GatewaySocket` per socket.
///
/// A class, so that each `GatewaySocket` keeps one reference to it: as a struct its five fields
/// (two existentials and a logger among them) were copied into every socket, about 200 bytes of
/// each idle connection (heaptrack).
public final class GatewayNamespace: SocketIONamespace {
    let authority: TokenAuthority
    let nodeId: String
    let broadcaster: any Broadcaster
    let notifications: any NotificationStore
    let logger: Logger

    public init(
        authority: TokenAuthority,
        nodeId: String,
        broadcaster: any Broadcaster,
        notifications: any NotificationStore,
        logger: Logger
    ) {
        self.authority = authority
        self.nodeId = nodeId
        self.broadcaster = broadcaster
        self.notifications = notifications
        self.logger = logger
    }

    /// The token comes from the CONNECT auth payload `{token}`, else `Authorization: Bearer` (SPEC section 3).
    public func authorize(auth: JSONValue?, handshake: HandshakeRequest) -> Result<Identity, ConnectRefusal> {
        let token: String?
        switch auth?["token"] {
        case .string(let value)?: token = value
        case nil, .null?: token = TokenAuthority.bearerToken(handshake.authorization)
        default: return refuse(.malformedToken, handshake: handshake)
        }
        switch authority.verify(token) {
        case .success(let identity): return .success(identity)
        case .failure(let error): return refuse(error, handshake: handshake)
        }
    }

    private func refuse(_ error: AuthError, handshake: HandshakeRequest) -> Result<Identity, ConnectRefusal> {
        logger.info("[Auth] Connection refused: \(error.message) (from \(handshake.remoteAddress ?? "?"))")
        return .failure(ConnectRefusal(error.message))
    }

    /// A session is restored only for a token with its `sub` (SPEC section 4.1).
    public func sessionOwner(of identity: Identity) -> String { identity.userId }

    public func connect(_ socket: SocketIOSocket, grant identity: Identity, recovered: Bool) -> any SocketDelegate {
        let session = GatewaySocket(socket: socket, identity: identity, namespace: self)
        session.start(socket, recovered: recovered)
        return session
    }
}
