import Atomics
import Logging
import NIOCore

/// The seed's `[Broadcast] points_added to [guest:g1, restaurant:r1]` line, at info but at most
/// once a second, with a count of the broadcasts it stands for.
///
/// Written for every broadcast, the line cost more CPU than delivering a targeted event (perf at
/// 5,000 events/s: formatting and the write to stdout). Two relaxed atomics decide instead: a
/// broadcast inside the second only counts itself.
final class BroadcastLog: Sendable {
    /// When the next line may be written, in uptime nanoseconds.
    private let nextLine = ManagedAtomic<UInt64>(0)
    /// Broadcasts since the last line.
    private let unlogged = ManagedAtomic<Int>(0)
    static let interval: UInt64 = 1_000_000_000

    func record(_ eventName: String?, options: BroadcastOptions, logger: Logger) {
        let now = NIODeadline.now().uptimeNanoseconds
        let next = nextLine.load(ordering: .relaxed)
        guard now >= next,
              nextLine.compareExchange(expected: next, desired: now + Self.interval, ordering: .relaxed).exchanged
        else {
            unlogged.wrappingIncrement(ordering: .relaxed)
            return
        }
        let others = unlogged.exchange(0, ordering: .relaxed)
        guard let name = eventName else { return }
        let rooms = options.rooms.sorted().joined(separator: ", ")
        logger.info("[Broadcast] \(name) to [\(rooms)]\(others > 0 ? " (and \(others) more in the last second)" : "")")
    }
}
