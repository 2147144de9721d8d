import Logging
import PointsLedger
import ServiceLifecycle
import SocketIO

/// Publishes committed events in commit order through a `Broadcaster` and marks them published
/// (the transactional outbox, SPEC section 5).
///
/// A `Service`: woken after each commit and every second; while publishing fails it backs off
/// (at most 2 s between tries) and keeps the rest waiting, so order holds and nothing is lost.
/// Rows left unpublished by a crash are published after the restart.
public final class OutboxRelay: Service {
    private let ledger: any Ledger
    private let broadcaster: any Broadcaster
    private let logger: Logger
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation
    static let batchSize = 500

    public init(ledger: any Ledger, broadcaster: any Broadcaster, logger: Logger) {
        self.ledger = ledger
        self.broadcaster = broadcaster
        self.logger = logger
        (doorbell, ring) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Tells the relay there is something new; cheap, never blocks.
    public func wake() {
        ring.yield()
    }

    public func run() async throws {
        // The doorbell also rings every second, so rows committed by another process (or left
        // by a crash) go out without a commit here.
        let ticker = Task { [ring] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                ring.yield()
            }
        }
        defer { ticker.cancel() }
        var wakes = doorbell.makeAsyncIterator()
        var failing = false
        var backoff = Duration.milliseconds(100)
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    let published = try await publishPending()
                    if failing {
                        logger.info("[Outbox] Publishing again")
                        failing = false
                    }
                    backoff = .milliseconds(100)
                    if published < Self.batchSize { _ = await wakes.next() }
                } catch {
                    if !failing {
                        logger.warning("[Outbox] Publishing failed, retrying with backoff: \(error)")
                        failing = true
                    }
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(2))
                }
            }
        } onGracefulShutdown: { [ring] in
            ring.yield()
        }
        // One last pass, so what was committed before the shutdown goes out.
        _ = try? await publishPending()
    }

    /// Publishes one batch in commit order; returns how many events went out.
    @discardableResult
    public func publishPending() async throws -> Int {
        let events = try await ledger.pendingEvents(limit: Self.batchSize)
        guard let last = events.last?.seq else { return 0 }
        let batch = events.map { event in
            Broadcast(
                .event(event.event, [JSONValue(parsing: event.payload) ?? .null]),
                options: BroadcastOptions(rooms: Set(event.rooms)), eventId: event.eventId
            )
        }
        do {
            try await broadcaster.broadcast(batch)
        } catch let error as BatchBroadcastError {
            // Keep what did go out, then let the caller back off.
            if error.handedOn > 0 { try await ledger.markPublished(upTo: events[error.handedOn - 1].seq) }
            throw error.underlying
        }
        try await ledger.markPublished(upTo: last)
        return events.count
    }
}
