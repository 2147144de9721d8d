import EngineIO

/// The sockets of one event loop and the rooms they are in.
///
/// One registry per event loop, touched only on that loop, so a broadcast takes no lock:
/// it hops once to each loop and walks that loop's members.
public final class RoomRegistry {
    /// Every socket of this loop by id; a socket id is also the name of a room holding only it.
    private(set) var sockets: [String: SocketIOSocket] = [:]
    private var rooms: [String: [String: SocketIOSocket]] = [:]

    public init() {}

    public var socketCount: Int { sockets.count }
    /// The names of the rooms that have members on this loop.
    public var roomNames: Dictionary<String, [String: SocketIOSocket]>.Keys { rooms.keys }
    public var membershipCount: Int { rooms.values.reduce(0) { $0 + $1.count } }

    func add(_ socket: SocketIOSocket) {
        sockets[socket.id] = socket
    }

    func join(_ socket: SocketIOSocket, room: String) {
        rooms[room, default: [:]][socket.id] = socket
    }

    func leave(_ socket: SocketIOSocket, room: String) {
        // In place: a copy of the members (`var members = rooms[room]`) made every leave of a
        // room of n cost O(n), and a mass disconnect O(n²) (micro-benchmark: 183 µs for 10,000).
        guard rooms[room]?.removeValue(forKey: socket.id) != nil else { return }
        if rooms[room]?.isEmpty == true { rooms[room] = nil }
    }

    /// Removes a socket from every room at once (SPEC section 3: nothing is left behind).
    func remove(_ socket: SocketIOSocket) {
        for room in socket.rooms { leave(socket, room: room) }
        sockets.removeValue(forKey: socket.id)
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
        if let members = rooms[room] {
            for socket in members.values { body(socket) }
        } else if let socket = sockets[room] {
            body(socket)
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
