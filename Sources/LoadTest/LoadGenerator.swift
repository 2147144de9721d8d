import Foundation
import HeraldAuth
import Logging
import NIOCore
import NIOPosix
import RedisAdapter
import RedisClient
import SocketIO
import Vocabulary

#if canImport(Glibc)
import Glibc
#endif

/// What to run (SPEC section 7).
public struct LoadPlan: Sendable {
    public enum Scenario: String, Sendable, CaseIterable {
        /// N connections held; RSS per connection.
        case idle
        /// Each event to one guest's room; end-to-end latency.
        case targeted
        /// Each event to one restaurant room holding every connection; deliveries per second.
        case fanout
    }

    public struct Target: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public var scenario: Scenario
    /// The nodes (or nginx) to connect to; connection `k` goes to `targets[k % targets.count]`.
    public var targets: [Target]
    public var connections: Int
    public var events: Int
    /// Events per second.
    public var rate: Int
    /// Local addresses to connect from, in turn (127.0.0.2, ...: more ephemeral ports).
    public var sources: [String]
    /// Handshakes in flight at once (the ramp-up bound), per process.
    public var handshakesInFlight: Int
    public var hold: Duration
    public var secret: String
    /// Events go straight into this Redis in the emitter format, when set...
    public var redis: RedisURL?
    /// ...else through this points API (SPEC section 7).
    public var api: Target?
    /// Into Redis through the recovery script, as the outbox relay publishes with connection
    /// state recovery on (offsets and room logs), rather than as plain PUBLISHes.
    public var recoverable = false
    public var gatewayPIDs: [Int32]
    /// The longest wait for the last deliveries after the last publish.
    public var settle: Duration
    /// The user ids and room names of this run start with it (workers share their parent's).
    public var prefix = "lt\(UInt32.random(in: 0...UInt32.max))"

    public init(
        scenario: Scenario, targets: [Target], connections: Int, events: Int, rate: Int, sources: [String],
        handshakesInFlight: Int, hold: Duration, secret: String, redis: RedisURL?, gatewayPIDs: [Int32], settle: Duration
    ) {
        self.scenario = scenario
        self.targets = targets
        self.connections = connections
        self.events = events
        self.rate = rate
        self.sources = sources
        self.handshakesInFlight = handshakesInFlight
        self.hold = hold
        self.secret = secret
        self.redis = redis
        self.gatewayPIDs = gatewayPIDs
        self.settle = settle
    }

    var restaurant: String { "\(prefix)-r" }

    /// Each gateway's PID and resident memory now.
    func gatewaysRSS() -> [(Int32, Int)] {
        gatewayPIDs.map { ($0, LoadGenerator.residentBytes(of: $0)) }
    }

    func identity(of index: Int) -> Identity {
        scenario == .fanout
            ? Identity(userId: "\(prefix)-s\(index)", role: .restaurant, restaurantId: restaurant)
            : Identity(userId: "\(prefix)-g\(index)", role: .guest)
    }

    /// The room event `index` goes to, given the connections that are up.
    func room(ofEvent index: Int, held: [Int]) -> String {
        (scenario == .fanout ? ChannelName.restaurant(restaurant) : .guest("\(prefix)-g\(held[index % held.count])")).description
    }

    /// How many deliveries the connections `mine` (a subset of `held`) should receive.
    func expectedDeliveries(held: [Int], mine: Set<Int>) -> Int {
        switch scenario {
        case .idle: 0
        case .fanout: events * mine.count
        case .targeted: held.isEmpty ? 0 : (0..<events).count { mine.contains(held[$0 % held.count]) }
        }
    }
}

/// Opens the connections, drives the events, and measures (SPEC section 7).
public enum LoadGenerator {
    /// Runs the whole plan in this process.
    public static func run(_ plan: LoadPlan, logger: Logger, progress: @escaping @Sendable (String) -> Void) async throws -> LoadReport {
        var report = LoadReport(scenario: plan.scenario.rawValue, requested: plan.connections)
        report.rssBefore = plan.gatewaysRSS()
        let pool = try await ConnectionPool.open(plan, indices: Array(0..<plan.connections), logger: logger, progress: progress)
        defer { pool.close() }
        report.held = pool.held.count
        report.connectSeconds = pool.connectSeconds
        try await drive(plan, held: pool.held, report: &report, logger: logger, progress: progress)
        try await pool.waitForDeliveries(report.expected, settle: plan.settle)
        report.rssAfter = plan.gatewaysRSS()
        report.tally.add(try await pool.recorders.snapshot())
        return report
    }

    /// Once the connections `held` are up: holds them (idle) or publishes the events, and sets
    /// what the report expects.
    static func drive(
        _ plan: LoadPlan, held: [Int], report: inout LoadReport, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws {
        guard plan.scenario != .idle else { return try await Task.sleep(for: plan.hold) }
        report.publishStartedAt = try await publish(plan, held: held, logger: logger, progress: progress)
        report.expected = plan.expectedDeliveries(held: held, mine: Set(held))
    }

    /// Publishes the events, paced at the plan's rate, to the rooms of the connections that are
    /// up: into Redis or through the points API; returns when the first went out (µs since the
    /// epoch). Events the API refused are not retried: their deliveries count as lost.
    static func publish(
        _ plan: LoadPlan, held: [Int], logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws -> UInt64 {
        guard !held.isEmpty else { throw LoadTestError("no connection was held") }
        if let redis = plan.redis {
            return try await publish(plan, into: redis, held: held, logger: logger, progress: progress)
        }
        guard let api = plan.api else { throw LoadTestError("events need --redis or a points API (--api)") }
        return try await PointsAPIPublisher.publish(plan, held: held, api: api, progress: progress).startedAt
    }

    /// Publishes into Redis in the emitter format, each event with its publish time (`sentAt`).
    static func publish(
        _ plan: LoadPlan, into redis: RedisURL, held: [Int], logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws -> UInt64 {
        let client = RedisClient(url: redis, group: MultiThreadedEventLoopGroup.singleton, logger: logger, name: "load")
        let running = Task { try await client.run() }
        defer { running.cancel() }
        guard await client.waitUntilConnected(timeout: .seconds(5)) else { throw LoadTestError("cannot reach \(redis)") }
        let emitter = RedisEmitter(
            client: client, recovery: plan.recoverable ? RedisRecovery(client: client, limits: RecoveryLimits()) : nil
        )
        let startedAt = wallClockMicroseconds()
        let started = ContinuousClock.now
        // The events due by now go out together, pipelined (one script call with recovery), as
        // the outbox relay sends its batches: a round trip per event would cap the rate near
        // 1 / RTT, below what the gateways are asked to hold.
        var index = 0
        var reported = 0
        while index < plan.events {
            let due = started + .seconds(Double(index) / Double(max(plan.rate, 1)))
            if due > ContinuousClock.now { try await Task.sleep(until: due) }
            let elapsed = ContinuousClock.now - started
            let dueCount = min(plan.events, max(index + 1, Int(seconds(elapsed) * Double(plan.rate)) + 1))
            let sentAt = Double(wallClockMicroseconds())
            let batch = (index..<dueCount).map { event in
                let payload: JSONValue = [
                    "eventId": .string("\(plan.prefix)-e\(event)"), "sentAt": .number(sentAt), "seq": .number(Double(event)),
                ]
                return Broadcast(.event("points_added", [payload]), options: BroadcastOptions(rooms: [plan.room(ofEvent: event, held: held)]))
            }
            try await emitter.broadcast(batch)
            index = dueCount
            if index / 1000 > reported {
                reported = index / 1000
                progress("published \(index)/\(plan.events)")
            }
        }
        return startedAt
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// VmRSS of a process, from /proc.
    static func residentBytes(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}

/// The connections one process holds, and what they received.
final class ConnectionPool: Sendable {
    let recorders: LoadRecorders
    /// The plan's indices of the connections that are up, ascending.
    let held: [Int]
    let connectSeconds: Double
    private let channels: [any Channel]

    private init(recorders: LoadRecorders, held: [Int], connectSeconds: Double, channels: [any Channel]) {
        self.recorders = recorders
        self.held = held
        self.connectSeconds = connectSeconds
        self.channels = channels
    }

    /// Opens the connections `indices` of the plan, at most `handshakesInFlight` at a time.
    static func open(
        _ plan: LoadPlan, indices: [Int], logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws -> ConnectionPool {
        let group = MultiThreadedEventLoopGroup.singleton
        let recorders = LoadRecorders(group: group)
        let authority = await TokenAuthority(secret: plan.secret)
        let targets = try plan.targets.map { try SocketAddress.makeAddressResolvingHost($0.host, port: $0.port) }
        let sources = try plan.sources.map { try SocketAddress(ipAddress: $0, port: 0) }
        let started = ContinuousClock.now
        var opened: [(Int, any Channel)] = []
        var failures = 0
        try await withThrowingTaskGroup(of: (Int, (any Channel)?).self) { tasks in
            var inFlight = 0
            func collect(_ result: (Int, (any Channel)?)) {
                if let channel = result.1 { opened.append((result.0, channel)) } else { failures += 1 }
            }
            for (position, index) in indices.enumerated() {
                if inFlight >= plan.handshakesInFlight, let result = try await tasks.next() {
                    inFlight -= 1
                    collect(result)
                }
                let identity = plan.identity(of: index)
                let target = plan.targets[index % plan.targets.count]
                let address = targets[index % targets.count]
                // Every source address to every target: each pair has its own ephemeral ports.
                let source = sources.isEmpty ? nil : sources[(index / targets.count) % sources.count]
                tasks.addTask {
                    let token = try await authority.sign(identity, ttl: 3600)
                    do {
                        return (index, try await LoadSocket.open(
                            target: address, host: "\(target.host):\(target.port)", source: source, token: token,
                            group: group, recorders: recorders
                        ).get())
                    } catch {
                        logger.debug("[LoadTest] Connection \(index) failed: \(error)")
                        return (index, nil)
                    }
                }
                inFlight += 1
                if position % 1000 == 999 { progress("connecting: \(position + 1)/\(indices.count)") }
            }
            for try await result in tasks { collect(result) }
        }
        opened.sort { $0.0 < $1.0 }
        let seconds = LoadGenerator.seconds(ContinuousClock.now - started)
        progress("connected \(opened.count)/\(indices.count) in \(String(format: "%.1f", seconds)) s, \(failures) failed")
        return ConnectionPool(recorders: recorders, held: opened.map(\.0), connectSeconds: seconds, channels: opened.map(\.1))
    }

    /// Waits until `expected` deliveries arrived, or `settle` passed.
    func waitForDeliveries(_ expected: Int, settle: Duration) async throws {
        let deadline = ContinuousClock.now + settle
        while ContinuousClock.now < deadline, try await recorders.snapshot().received < expected {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func close() {
        for channel in channels { channel.close(promise: nil) }
    }
}
