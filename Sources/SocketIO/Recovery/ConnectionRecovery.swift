import NIOCore
import Vocabulary

/// Connection state recovery as socket.io-client 4.6+ speaks it (SPEC section 4.1): the seam
/// between the Socket.IO layer and where sessions and the per-room event logs live (memory under
/// `serve`, Redis in a cluster).
///
/// The Socket.IO layer saves a socket's session when it connects and whenever its rooms change,
/// releases it when the socket goes (it may then be restored for `window`), and on a CONNECT that
/// carries `{pid, offset}` restores it and asks for the events its rooms missed.
public protocol ConnectionRecovery: AnyObject, Sendable {
    /// How long after a disconnect a session may be restored.
    var window: Duration { get }

    /// Every recoverable event at or before this offset was delivered on this node before now:
    /// a room joined now takes it as its join offset.
    func highWaterMark() -> RecoveryOffset

    /// Whether sessions are saved while their sockets are connected (and on every change of
    /// their rooms), or only when they go. A store that outlives the node (Redis) needs the
    /// former, so that a node killed without a word leaves its sessions behind; one that dies
    /// with the node gains nothing from it and would hold a copy of every connected socket.
    var savesConnectedSessions: Bool { get }
    /// Saves (or replaces) sessions.
    func save(_ sessions: [RecoverableSession]) async throws
    /// The socket of session `pid` went: the session may be restored for `window` from now.
    func release(pid: String) async throws
    /// The session `pid` ended on purpose (a namespace disconnect): it cannot be restored.
    func discard(pid: String) async throws
    /// `release` and `discard` for several sessions at once (a store may send them together).
    func release(pids: [String]) async throws
    func discard(pids: [String]) async throws
    /// The session `pid`, nil when unknown or expired.
    func restore(pid: String) async throws -> RecoverableSession?
    /// The events logged for each room after its offset, in offset order, each once (an event
    /// sent to two of the rooms comes once); nil when an event after an offset is no longer
    /// kept (the room's log was trimmed past it), so the session cannot be made whole.
    func missedEvents(after offsets: [String: RecoveryOffset]) async throws -> [LoggedEvent]?
}

extension ConnectionRecovery {
    public func release(pids: [String]) async throws {
        for pid in pids { try await release(pid: pid) }
    }

    public func discard(pids: [String]) async throws {
        for pid in pids { try await discard(pid: pid) }
    }
}

/// What a session needs to come back: the socket's id, whose it is, and its rooms, each with the
/// offset it was joined at (events before it were not for this socket).
public struct RecoverableSession: Sendable, Equatable {
    /// The private session id the client holds (`pid`).
    public var pid: String
    /// The Socket.IO socket id, kept across the recovery.
    public var sid: String
    /// Who may restore it (Herald: the token's `sub`).
    public var owner: String
    /// The rooms and the offset each was joined at.
    public var rooms: [String: RecoveryOffset]

    public init(pid: String, sid: String, owner: String, rooms: [String: RecoveryOffset]) {
        self.pid = pid
        self.sid = sid
        self.owner = owner
        self.rooms = rooms
    }

    /// The stored form: `{"sid","owner","rooms":{room: offset}}`.
    public var json: JSONValue {
        [
            "sid": .string(sid), "owner": .string(owner),
            "rooms": .object(rooms.mapValues { .string($0.description) }),
        ]
    }

    public init?(pid: String, json: JSONValue) {
        guard let sid = json["sid"]?.stringValue, let owner = json["owner"]?.stringValue,
              case .object(let fields)? = json["rooms"]
        else { return nil }
        var rooms: [String: RecoveryOffset] = [:]
        for (room, value) in fields {
            guard let text = value.stringValue, let offset = RecoveryOffset(text) else { return nil }
            rooms[room] = offset
        }
        self.init(pid: pid, sid: sid, owner: owner, rooms: rooms)
    }
}

/// One logged recoverable event: its offset and its data, `[event, args...]` as JSON text.
public struct LoggedEvent: Sendable, Equatable {
    public var offset: RecoveryOffset
    public var data: String

    public init(offset: RecoveryOffset, data: String) {
        self.offset = offset
        self.data = data
    }

    /// The EVENT packet a recovering client gets: the data with the offset as its last argument.
    var packet: SocketIOPacket? {
        guard case .array(let items)? = JSONValue(parsing: data), items.first?.stringValue != nil else { return nil }
        return SocketIOPacket(kind: .event, data: .array(items + [.string(offset.description)]))
    }
}

/// The bounds of the event logs (SPEC section 4.1).
public struct RecoveryLimits: Sendable, Equatable {
    /// How long after a disconnect a session may be restored.
    public var window: Duration
    /// The most events kept per room.
    public var eventsPerRoom: Int

    public init(window: Duration = .seconds(120), eventsPerRoom: Int = 1_000) {
        self.window = window
        self.eventsPerRoom = eventsPerRoom
    }

    /// How long an event is kept: the window, plus the longest a dropped connection can go
    /// unnoticed (a ping interval and timeout, 45 s by default, rounded up), so that every event
    /// a client missed before its server saw it go is still there when it comes back in time.
    public var retention: Duration { window + .seconds(60) }
}

extension SocketIOPacket {
    /// Whether a broadcast of this packet gets an offset and is logged: an EVENT without an ack
    /// id, not volatile and not node-local (SPEC section 4.1), for named rooms with no
    /// exceptions (the logs are per room, and a replay could not honour `except`). Binary events
    /// are not logged.
    public func isRecoverable(_ options: BroadcastOptions) -> Bool {
        kind == .event && id == nil && namespace == "/" && !options.flags.volatile && !options.flags.local
            && !options.rooms.isEmpty && options.except.isEmpty
    }

    /// This packet with `offset` as its last argument, as every recipient of the broadcast sees it.
    func withOffset(_ offset: RecoveryOffset) -> SocketIOPacket {
        guard case .array(let items)? = data else { return self }
        var packet = self
        packet.data = .array(items + [.string(offset.description)])
        return packet
    }
}
