import NIOConcurrencyHelpers

/// Which rooms may have members on one event loop, readable from any thread: a counting filter
/// over hashes of the room names (socket ids included), kept by that loop's `RoomRegistry`.
///
/// A broadcast hops to every event loop unless this says the loop has none of its rooms. Most
/// events in this system go to one guest's room, whose one socket lives on one loop: without
/// the filter every other loop was woken (an `eventfd` write and an `epoll` wake-up) to find
/// nobody, the most expensive part of a targeted event on a gateway with two loops.
///
/// A filter, not a set: its memory is fixed (64 KiB a loop, whatever the number of rooms) and
/// an idle connection costs nothing more. A slot shared by two rooms only makes a loop wake for
/// nothing (a false positive); a room with members always counts (no false negative). A count
/// that reaches 255 stays there, so it can never wrap to a false "none".
///
/// Ordering: a socket's join is counted before the join returns, on the socket's loop, so a
/// broadcast that checks after the join reaches it; one that checked before was sent before the
/// join, and a recovering socket (which joins, then reads what it missed) finds that one in the log.
public final class RoomPresence: Sendable {
    static let slots = 1 << 16
    private let counts = NIOLockedValueBox([UInt8](repeating: 0, count: slots))

    public init() {}

    /// The slot of `room`, computed once per broadcast and looked up on every loop.
    public static func slot(of room: String) -> Int {
        room.hashValue & (slots - 1)
    }

    /// A room got its first member on this loop.
    func appeared(_ room: String) {
        let slot = Self.slot(of: room)
        counts.withLockedValue { counts in
            if counts[slot] < .max { counts[slot] += 1 }
        }
    }

    /// A room lost its last member on this loop.
    func vanished(_ room: String) {
        let slot = Self.slot(of: room)
        counts.withLockedValue { counts in
            // At .max it may stand for more rooms than it can count: it stays.
            if counts[slot] > 0 && counts[slot] < .max { counts[slot] -= 1 }
        }
    }

    /// False only when none of the rooms of these slots has a member on this loop.
    public func mayHaveAny(of slots: [Int]) -> Bool {
        counts.withLockedValue { counts in slots.contains { counts[$0] > 0 } }
    }
}
