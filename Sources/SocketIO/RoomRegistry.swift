import EngineIO

/// The sockets of one event loop and the rooms they are in.
///
/// One registry per event loop, touched only on that loop, so a broadcast takes no lock:
/// it hops once to each loop and walks that loop's members.
public final class RoomRegistry {
    /// Every socket of this loop by id; a socket id is also the name of a room holding only it.
    private(set) var sockets: [String: SocketIOSocket] = [:]
    private var rooms: [String: Members] = [:]
    /// What other threads may know of this loop's rooms (see `RoomPresence`).
    public let presence: RoomPresence

    public init(presence: RoomPresence = RoomPresence()) {
        self.presence = presence
    }

    public var socketCount: Int { sockets.count }
    /// The names of the rooms that have members on this loop.
    public var roomNames: Dictionary<String, Members>.Keys { rooms.keys }
    public var membershipCount: Int { rooms.values.reduce(0) { $0 + $1.count } }

    func add(_ socket: SocketIOSocket) {
        if sockets.updateValue(socket, forKey: socket.id) == nil { presence.appeared(socket.id) }
    }

    func join(_ socket: SocketIOSocket, room: String) {
        // In place when the room exists (optional chaining mutates through the dictionary).
        if rooms[room]?.insert(socket) == nil {
            rooms[room] = .one(socket)
            presence.appeared(room)
        }
    }

    func leave(_ socket: SocketIOSocket, room: String) {
        // In place (through the dictionary's modify accessor): a copy of the members made every
        // leave of a room of n cost O(n), and a mass disconnect O(n²) (micro-benchmark: 183 µs
        // for 10,000).
        guard let isEmpty = rooms[room]?.remove(socket) else { return }
        if isEmpty {
            rooms[room] = nil
            presence.vanished(room)
        }
    }

    /// Removes a socket from every room at once (SPEC section 3: nothing is left behind).
    func remove(_ socket: SocketIOSocket) {
        for room in socket.roomList { leave(socket, room: room) }
        // A recovered socket takes the id of one whose connection may not have been seen to
        // drop yet: only the socket itself leaves its id's place.
        if sockets[socket.id] === socket {
            sockets.removeValue(forKey: socket.id)
            presence.vanished(socket.id)
        }
    }

    /// Calls `body` once for each socket selected by the options, even when it is in several rooms.
    public func forEach(matching options: BroadcastOptions, _ body: (SocketIOSocket) -> Void) {
        let excluded = options.except.isEmpty ? nil : excludedIDs(options.except)
        func visit(_ socket: SocketIOSocket) {
            if let excluded, excluded.contains(socket.id) { return }
            body(socket)
        }
        if options.rooms.isEmpty {
            for socket in sockets.values { visit(socket) }
        } else if options.rooms.count == 1, let room = options.rooms.first {
            // The common case needs no de-duplication.
            forEachMember(of: room, visit)
        } else {
            var seen = Set<String>()
            for room in options.rooms {
                forEachMember(of: room) { socket in
                    if seen.insert(socket.id).inserted { visit(socket) }
                }
            }
        }
    }

    /// Iterates a copy of the members: a write that fails may close a socket and change the
    /// registry while we walk it.
    private func forEachMember(of room: String, _ body: (SocketIOSocket) -> Void) {
        switch rooms[room] {
        case .one(let socket): body(socket)
        case .many(let members): for socket in members.values { body(socket) }
        case .moving: preconditionFailure("a room read in the middle of its own update")
        case nil: if let socket = sockets[room] { body(socket) }
        }
    }

    private func excludedIDs(_ except: Set<String>) -> Set<String> {
        var ids = Set<String>()
        for room in except {
            forEachMember(of: room) { ids.insert($0.id) }
        }
        return ids
    }
}

extension RoomRegistry {
    /// The members of one room on one loop.
    ///
    /// Most rooms hold one socket (a guest's own room, a user's own room): that one is kept
    /// without a dictionary, whose storage was 120 bytes of every idle socket's heap per room.
    public enum Members {
        case one(SocketIOSocket)
        case many([ObjectIdentifier: SocketIOSocket])
        /// Only while `insert` or `remove` holds the dictionary: left in its place, it keeps
        /// the dictionary uniquely referenced, so that it is changed in place, not copied.
        case moving

        var count: Int {
            switch self {
            case .one: 1
            case .many(let members): members.count
            case .moving: 0
            }
        }

        mutating func insert(_ socket: SocketIOSocket) {
            switch self {
            case .one(let member) where member === socket:
                break
            case .one(let member):
                self = .many([ObjectIdentifier(member): member, ObjectIdentifier(socket): socket])
            case .many(var members):
                self = .moving
                members[ObjectIdentifier(socket)] = socket
                self = .many(members)
            case .moving:
                preconditionFailure("a room updated in the middle of its own update")
            }
        }

        /// Removes `socket`; true when the room is empty then.
        mutating func remove(_ socket: SocketIOSocket) -> Bool {
            switch self {
            case .one(let member):
                return member === socket
            case .many(var members):
                self = .moving
                members.removeValue(forKey: ObjectIdentifier(socket))
                if members.count == 1, let last = members.values.first {
                    self = .one(last)
                } else {
                    self = .many(members)
                }
                return false
            case .moving:
                preconditionFailure("a room updated in the middle of its own update")
            }
        }
    }
}
