import Histogram
import NIOCore

/// What some connections received. Each event loop keeps one, touched on that loop only; they
/// are merged at the end, and worker processes hand theirs to the parent (Codable).
struct Tally: Sendable, Codable {
    /// Publish-to-receipt latency in microseconds.
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var received = 0
    var duplicated = 0
    var connected = 0
    var disconnected = 0
    /// When the last event arrived, in µs since the epoch (deliveries per second end there).
    var lastReceipt: UInt64 = 0

    /// An event published at `sentAt` arrived at `now` (both µs since the epoch).
    mutating func record(sentAt: UInt64, now: UInt64) {
        received += 1
        lastReceipt = max(lastReceipt, now)
        _ = latency.record(max(1, now > sentAt ? now - sentAt : 0))
    }

    mutating func add(_ other: Tally) {
        latency.add(other.latency)
        received += other.received
        duplicated += other.duplicated
        connected += other.connected
        disconnected += other.disconnected
        lastReceipt = max(lastReceipt, other.lastReceipt)
    }
}

/// The tallies of every event loop of the load generator.
struct LoadRecorders: Sendable {
    let recorders: [NIOLoopBoundBox<Tally>]

    init(group: any EventLoopGroup) {
        recorders = group.makeIterator().map { .makeBoxSendingValue(Tally(), eventLoop: $0) }
    }

    func recorder(on eventLoop: any EventLoop) -> NIOLoopBoundBox<Tally> {
        recorders.first { $0.eventLoop === eventLoop }!
    }

    /// Everything recorded so far, merged.
    func snapshot() async throws -> Tally {
        var total = Tally()
        for recorder in recorders {
            total.add(try await recorder.eventLoop.submit { recorder.value }.get())
        }
        return total
    }
}
