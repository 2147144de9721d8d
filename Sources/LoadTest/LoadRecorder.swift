import Histogram
import NIOCore

/// What the sockets of one event loop received: touched on that loop only, merged at the end.
final class LoopRecorder {
    /// Publish-to-receipt latency in microseconds.
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var received = 0
    var duplicated = 0
    var connected = 0
    var disconnected = 0
    /// When the last event arrived, in µs since the epoch (deliveries per second end there).
    var lastReceipt: UInt64 = 0

    /// An event published at `sentAt` arrived at `now` (both µs since the epoch).
    func record(sentAt: UInt64, now: UInt64) {
        received += 1
        lastReceipt = max(lastReceipt, now)
        _ = latency.record(max(1, now > sentAt ? now - sentAt : 0))
    }
}

/// The recorders of every event loop of the load generator.
struct LoadRecorders: Sendable {
    let recorders: [NIOLoopBoundBox<LoopRecorder>]

    init(group: any EventLoopGroup) {
        recorders = group.makeIterator().map { .makeBoxSendingValue(LoopRecorder(), eventLoop: $0) }
    }

    func recorder(on eventLoop: any EventLoop) -> NIOLoopBoundBox<LoopRecorder> {
        recorders.first { $0.eventLoop === eventLoop }!
    }

    /// Everything recorded so far, merged.
    func snapshot() async throws -> Snapshot {
        var total = Snapshot()
        for recorder in recorders {
            let part = try await recorder.eventLoop.submit {
                let value = recorder.value
                return Snapshot(
                    latency: value.latency, received: value.received, duplicated: value.duplicated,
                    connected: value.connected, disconnected: value.disconnected, lastReceipt: value.lastReceipt
                )
            }.get()
            total.add(part)
        }
        return total
    }

    /// What some recorders received; Codable, so that worker processes hand theirs to the parent.
    struct Snapshot: Sendable, Codable {
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var received = 0
        var duplicated = 0
        var connected = 0
        var disconnected = 0
        var lastReceipt: UInt64 = 0

        mutating func add(_ other: Snapshot) {
            latency.add(other.latency)
            received += other.received
            duplicated += other.duplicated
            connected += other.connected
            disconnected += other.disconnected
            lastReceipt = max(lastReceipt, other.lastReceipt)
        }
    }
}
