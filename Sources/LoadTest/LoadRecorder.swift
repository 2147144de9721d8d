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

    func record(latencyMicroseconds: UInt64) {
        received += 1
        _ = latency.record(max(1, latencyMicroseconds))
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
                    connected: value.connected, disconnected: value.disconnected
                )
            }.get()
            total.latency.add(part.latency)
            total.received += part.received
            total.duplicated += part.duplicated
            total.connected += part.connected
            total.disconnected += part.disconnected
        }
        return total
    }

    struct Snapshot: Sendable {
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var received = 0
        var duplicated = 0
        var connected = 0
        var disconnected = 0
    }
}
