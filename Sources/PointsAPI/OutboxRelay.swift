import DequeModule
import Logging
import NIOConcurrencyHelpers
import PointsLedger
import ServiceLifecycle
import SocketIO
import Vocabulary

/// Publishes committed events through a `Broadcaster`, in commit order, and marks them
/// published (the transactional outbox, SPEC section 5).
///
/// Two ways in, one way out:
/// - **Handed over at commit.** The ledger gives the relay each transaction's events as it
///   commits (`Ledger.commits`); they are published at once, with no read of the outbox. This is
///   the path from a POST to the screen. When the broadcaster is in-process all the way
///   (`herald serve`: the memory notification store and the local adapter) they are published
///   on the committing thread itself; otherwise the relay's task publishes them.
/// - **Read from the outbox.** At start (rows a crash left unpublished) and every second (rows
///   of another writer on the same database, and anything a failure left behind).
///
/// Marking rows published is off that path: a marker task gathers the published `seq`s and
/// marks them in batches (with SQLite inside the next group commit). A row stays in the outbox
/// until it is marked, so a crash between publish and mark publishes it again after the
/// restart: at least once, with Herald's recovery log dropping the repeat by `eventId`.
/// Within one process the relay remembers what it published and never sends a row twice.
///
/// A `Service`: while publishing fails it backs off (at most 2 s between tries) and keeps the
/// rest waiting, so order holds and nothing is lost.
public final class OutboxRelay: Service {
    private let ledger: any Ledger
    private let broadcaster: any Broadcaster
    private let logger: Logger
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation
    private let marker: Marker
    /// The broadcaster's synchronous form, if it has one.
    private let immediate: (any ImmediateBroadcaster)?
    /// Events handed over at commit, not yet published.
    private let handed = NIOLockedValueBox(Handover())
    /// What this relay published lately, so neither way in sends a row twice.
    private let published: NIOLockedValueBox<PublishedWindow>
    static let batchSize = 500

    public init(ledger: any Ledger, broadcaster: any Broadcaster, logger: Logger) {
        self.ledger = ledger
        self.broadcaster = broadcaster
        self.immediate = broadcaster.immediate
        self.logger = logger
        (doorbell, ring) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        published = NIOLockedValueBox(PublishedWindow())
        marker = Marker(ledger: ledger, published: published, logger: logger)
        // Weak: the ledger outlives no relay in a node, but a test may drop one and keep the other.
        ledger.commits.listen { [weak self] events in self?.handOver(events) }
    }

    /// Events that just committed, in commit order; cheap, never blocks.
    func handOver(_ events: [OutboxEvent]) {
        let publishedNow = handed.withLockedValue { handover -> Bool in
            guard let immediate, handover.publishAtOnce, handover.waiting.isEmpty else {
                handover.waiting.append(contentsOf: events)
                return false
            }
            // Under the hand-over's lock, so commits publish in commit order.
            let fresh = published.withLockedValue { $0.claim(events) }
            immediate.broadcastNow(Self.broadcasts(of: fresh))
            published.withLockedValue { $0.published(fresh.map(\.seq)) }
            return true
        }
        if publishedNow { marker.wake() } else { ring.yield() }
    }

    /// Lets the next hand-overs be published at once, if the broadcaster can and none waits.
    private func publishAtOnceFromNow(_ allowed: Bool) {
        guard immediate != nil else { return }
        handed.withLockedValue { handover in handover.publishAtOnce = allowed && handover.waiting.isEmpty }
    }

    /// Tells the relay to look at the outbox soon (rows another process committed).
    public func wake() {
        ring.yield()
    }

    public func run() async throws {
        // The doorbell also rings every second, so the outbox is read for rows that were not
        // handed over (another process, a crash, a failure).
        let ticker = Task { [ring] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                ring.yield()
            }
        }
        let marking = Task { [marker] in await marker.run() }
        defer {
            ticker.cancel()
            marking.cancel()
        }
        var wakes = doorbell.makeAsyncIterator()
        var failing = false
        var backoff = Duration.milliseconds(100)
        // The outbox is read first: what a crash left comes before what commits now.
        var lastRead: ContinuousClock.Instant?
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    var busy = false
                    if lastRead.map({ ContinuousClock.now - $0 >= .seconds(1) }) ?? true {
                        let (read, sent) = try await publishFromOutbox()
                        // A full batch with news in it: there may be more behind it (a backlog
                        // after a crash), so read on at once. A full batch of rows only waiting
                        // for their marks waits for the next second.
                        busy = read == Self.batchSize && sent > 0
                        if !busy { lastRead = .now }
                    }
                    busy = try await publishHandedOver() == Self.batchSize || busy
                    if failing {
                        logger.info("[Outbox] Publishing again")
                        failing = false
                    }
                    backoff = .milliseconds(100)
                    // Caught up (the outbox read at start included): what commits next can go at once.
                    publishAtOnceFromNow(!busy)
                    if !busy { _ = await wakes.next() }
                } catch {
                    if !failing {
                        logger.warning("[Outbox] Publishing failed, retrying with backoff: \(error)")
                        failing = true
                    }
                    lastRead = nil
                    publishAtOnceFromNow(false)
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(2))
                }
            }
        } onGracefulShutdown: { [ring] in
            ring.yield()
        }
        // One last pass, so what was committed before the shutdown goes out and is marked.
        _ = try? await publishHandedOver()
        while let (read, sent) = try? await publishFromOutbox(), read == Self.batchSize, sent > 0 {}
        await marker.flush()
    }

    /// Publishes one batch read from the outbox and marks it; returns how many rows were read
    /// (the relay's own published rows, not yet marked, count but are not sent again).
    @discardableResult
    public func publishPending() async throws -> Int {
        let (read, _) = try await publishFromOutbox()
        await marker.flush()
        return read
    }

    /// How many rows one read of the outbox found, and how many of them went out now.
    private func publishFromOutbox() async throws -> (read: Int, sent: Int) {
        let events = try await ledger.pendingEvents(limit: Self.batchSize)
        do {
            return (events.count, try await publish(events))
        } catch let failure as UnpublishedEvents {
            // They are still in the outbox: the next read finds them.
            throw failure.underlying
        }
    }

    private func publishHandedOver() async throws -> Int {
        let events = handed.withLockedValue { handover in
            let batch = Array(handover.waiting.prefix(Self.batchSize))
            handover.waiting.removeFirst(batch.count)
            return batch
        }
        do {
            _ = try await publish(events)
        } catch let failure as UnpublishedEvents {
            // Back to the front, so they go first and in order once publishing works again.
            handed.withLockedValue { $0.waiting.insert(contentsOf: failure.events, at: 0) }
            throw failure.underlying
        }
        return events.count
    }

    /// Broadcasts the events this relay has not published yet, in the order given; returns how
    /// many that was.
    private func publish(_ events: [OutboxEvent]) async throws -> Int {
        // Claimed before they go, so a hand-over published at once meanwhile skips them.
        let fresh = published.withLockedValue { $0.claim(events) }
        guard !fresh.isEmpty else { return 0 }
        let batch = Self.broadcasts(of: fresh)
        var sent = fresh.count
        var failure: (any Error)?
        do {
            try await broadcaster.broadcast(batch)
        } catch let error as BatchBroadcastError {
            // Keep what did go out, then let the caller back off.
            sent = error.handedOn
            failure = error.underlying
        } catch {
            sent = 0
            failure = error
        }
        let seqs = fresh.prefix(sent).map(\.seq)
        published.withLockedValue { window in
            window.published(seqs)
            window.released(fresh.dropFirst(sent).map(\.seq))
        }
        if !seqs.isEmpty { marker.wake() }
        if let failure { throw UnpublishedEvents(events: Array(fresh.dropFirst(sent)), underlying: failure) }
        return sent
    }

    private static func broadcasts(of events: [OutboxEvent]) -> [Broadcast] {
        events.map { event in
            Broadcast(
                .event(event.event, [event.payload]),
                options: BroadcastOptions(rooms: Set(event.rooms)), eventId: event.eventId
            )
        }
    }
}

/// The relay's hand-overs waiting for its task, and whether the next may skip the wait.
private struct Handover {
    var waiting = Deque<OutboxEvent>()
    /// Set while the relay is caught up and publishing works: a commit's events are then
    /// published on the committing thread; while anything waits here, they queue behind it.
    var publishAtOnce = false
}

/// The events of a batch that did not go out, and why.
private struct UnpublishedEvents: Error {
    let events: [OutboxEvent]
    let underlying: any Error
}

/// The `seq`s a relay published: the most recent `capacity` of them, every one whose mark has
/// not committed yet, and those being published now (claimed, so no other path sends them too).
///
/// A row published from a hand-over may still be read from the outbox until its mark commits,
/// and a row read from the outbox may still be handed over (its commit raced the read); both are
/// recognized here. The window is far longer than either race (seconds at 10,000 events a
/// second), and a row waiting for its mark is remembered however long the database refuses.
struct PublishedWindow {
    static let capacity = 65_536
    private var order = Deque<Int64>()
    private var recent = Set<Int64>()
    private var unmarked = Set<Int64>()
    private var claimed = Set<Int64>()
    /// Published, to be marked: in the order they went out.
    private(set) var toMark: [Int64] = []

    func contains(_ seq: Int64) -> Bool { recent.contains(seq) || unmarked.contains(seq) || claimed.contains(seq) }

    /// The events neither published nor being published, now being published.
    mutating func claim(_ events: [OutboxEvent]) -> [OutboxEvent] {
        events.filter { event in
            guard !contains(event.seq) else { return false }
            claimed.insert(event.seq)
            return true
        }
    }

    /// Claimed events that went out.
    mutating func published(_ seqs: some Sequence<Int64>) {
        for seq in seqs {
            claimed.remove(seq)
            insert(seq)
        }
    }

    /// Claimed events that did not go out: free for the next try.
    mutating func released(_ seqs: some Sequence<Int64>) {
        for seq in seqs { claimed.remove(seq) }
    }

    mutating func insert(_ seq: Int64) {
        guard recent.insert(seq).inserted else { return }
        unmarked.insert(seq)
        toMark.append(seq)
        order.append(seq)
        if order.count > Self.capacity, let oldest = order.popFirst() { recent.remove(oldest) }
    }

    /// The seqs to mark now; give them back with `marked` or `notMarked`.
    mutating func takeToMark() -> [Int64] {
        defer { toMark.removeAll() }
        return toMark
    }

    mutating func marked(_ seqs: [Int64]) { unmarked.subtract(seqs) }

    mutating func notMarked(_ seqs: [Int64]) { toMark.insert(contentsOf: seqs, at: 0) }
}

/// Marks published rows in the ledger in batches, off the publishing path; retries with
/// backoff while the database refuses.
final class Marker: Sendable {
    private let ledger: any Ledger
    private let logger: Logger
    private let published: NIOLockedValueBox<PublishedWindow>
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    static let gathering = Duration.milliseconds(50)

    init(ledger: any Ledger, published: NIOLockedValueBox<PublishedWindow>, logger: Logger) {
        self.ledger = ledger
        self.published = published
        self.logger = logger
        (doorbell, ring) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// There is something new to mark.
    func wake() {
        ring.yield()
    }

    func run() async {
        var wakes = doorbell.makeAsyncIterator()
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            if await markOnce() {
                backoff = .milliseconds(100)
                _ = await wakes.next()
                // Gather a few: at a trickle of events each mark would be a transaction.
                try? await Task.sleep(for: Self.gathering)
            } else {
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }

    /// Marks everything published so far (a few tries).
    func flush() async {
        for _ in 0..<3 where await !markOnce() {}
    }

    /// Marks what is waiting; false when the ledger refused (the seqs stay waiting).
    private func markOnce() async -> Bool {
        let seqs = published.withLockedValue { $0.takeToMark() }
        guard !seqs.isEmpty else { return true }
        do {
            try await ledger.markPublished(seqs)
            published.withLockedValue { $0.marked(seqs) }
            return true
        } catch {
            logger.warning("[Outbox] Marking \(seqs.count) events published failed, retrying: \(error)")
            published.withLockedValue { $0.notMarked(seqs) }
            return false
        }
    }
}
