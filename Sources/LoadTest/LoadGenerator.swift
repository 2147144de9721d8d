import Foundation
import HeraldAuth
import Logging
import NIOCore
import NIOPosix
import RedisAdapter
import RedisClient
import SocketIO

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

    public var scenario: Scenario
    public var host: String
    public var port: Int
    public var connections: Int
    public var events: Int
    /// Events per second.
    public var rate: Int
    /// Local addresses to connect from, in turn (127.0.0.2, ...: more ephemeral ports).
    public var sources: [String]
    /// Handshakes in flight at once (the ramp-up bound).
    public var handshakesInFlight: Int
    public var hold: Duration
    public var secret: String
    public var redis: RedisURL?
    public var gatewayPIDs: [Int32]
    /// The longest wait for the last deliveries after the last publish.
    public var settle: Duration

    public init(
        scenario: Scenario, host: String, port: Int, connections: Int, events: Int, rate: Int, sources: [String],
        handshakesInFlight: Int, hold: Duration, secret: String, redis: RedisURL?, gatewayPIDs: [Int32], settle: Duration
    ) {
        self.scenario = scenario
        self.host = host
        self.port = port
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
}

/// Opens the connections, drives the events, and measures (SPEC section 7).
public enum LoadGenerator {
    public static func run(_ plan: LoadPlan, logger: Logger, progress: @escaping @Sendable (String) -> Void) async throws -> LoadReport {
        let group = MultiThreadedEventLoopGroup.singleton
        let recorders = LoadRecorders(group: group)
        let authority = await TokenAuthority(secret: plan.secret)
        let target = try SocketAddress.makeAddressResolvingHost(plan.host, port: plan.port)
        let sources = try plan.sources.map { try SocketAddress(ipAddress: $0, port: 0) }
        let prefix = "lt\(UInt32.random(in: 0...UInt32.max))"
        let restaurant = "\(prefix)-r"
        var report = LoadReport(scenario: plan.scenario.rawValue, requested: plan.connections)
        report.rssBefore = plan.gatewayPIDs.map { ($0, residentBytes(of: $0)) }

        // Ramp-up: a bounded number of handshakes in flight.
        let started = ContinuousClock.now
        var channels: [any Channel] = []
        var heldIndices: [Int] = []
        var failures = 0
        try await withThrowingTaskGroup(of: (Int, (any Channel)?).self) { tasks in
            var inFlight = 0
            func collect(_ result: (Int, (any Channel)?)) {
                if let channel = result.1 {
                    channels.append(channel)
                    heldIndices.append(result.0)
                } else {
                    failures += 1
                }
            }
            for index in 0..<plan.connections {
                if inFlight >= plan.handshakesInFlight, let result = try await tasks.next() {
                    inFlight -= 1
                    collect(result)
                }
                let identity = plan.scenario == .fanout
                    ? Identity(userId: "\(prefix)-s\(index)", role: .restaurant, restaurantId: restaurant)
                    : Identity(userId: "\(prefix)-g\(index)", role: .guest)
                let source = sources.isEmpty ? nil : sources[index % sources.count]
                tasks.addTask {
                    let token = try await authority.sign(identity, ttl: 3600)
                    do {
                        return (index, try await LoadSocket.open(
                            target: target, host: plan.host, source: source, token: token, group: group, recorders: recorders
                        ).get())
                    } catch {
                        logger.debug("[LoadTest] Connection \(index) failed: \(error)")
                        return (index, nil)
                    }
                }
                inFlight += 1
                if index % 1000 == 999 { progress("connecting: \(index + 1)/\(plan.connections)") }
            }
            for try await result in tasks { collect(result) }
        }
        report.held = channels.count
        report.connectSeconds = seconds(ContinuousClock.now - started)
        progress("connected \(channels.count)/\(plan.connections) in \(String(format: "%.1f", report.connectSeconds)) s, \(failures) failed")

        switch plan.scenario {
        case .idle:
            try await Task.sleep(for: plan.hold)
        case .targeted, .fanout:
            guard let redis = plan.redis else { throw LoadTestError("--redis is needed to publish events") }
            try await drive(plan, redis: redis, group: group, prefix: prefix, restaurant: restaurant,
                            held: heldIndices, recorders: recorders, report: &report, logger: logger, progress: progress)
        }
        report.rssAfter = plan.gatewayPIDs.map { ($0, residentBytes(of: $0)) }
        let snapshot = try await recorders.snapshot()
        report.received = snapshot.received
        report.duplicated = snapshot.duplicated
        report.latency = snapshot.latency
        report.disconnected = snapshot.disconnected
        for channel in channels { channel.close(promise: nil) }
        return report
    }

    /// Publishes the events into Redis in the emitter format, paced at the plan's rate, and waits
    /// for every delivery (or the settle time).
    private static func drive(
        _ plan: LoadPlan, redis: RedisURL, group: any EventLoopGroup, prefix: String, restaurant: String, held: [Int],
        recorders: LoadRecorders, report: inout LoadReport, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws {
        let client = RedisClient(url: redis, group: group, logger: logger, name: "load")
        let running = Task { try await client.run() }
        defer { running.cancel() }
        guard await client.waitUntilConnected(timeout: .seconds(5)) else { throw LoadTestError("cannot reach \(redis)") }
        let emitter = RedisEmitter(client: client)
        guard !held.isEmpty else { throw LoadTestError("no connection was held") }
        // Targeted events go to the guests whose connection is up, in turn: one delivery each.
        report.expected = plan.scenario == .fanout ? plan.events * held.count : plan.events
        let started = ContinuousClock.now
        for index in 0..<plan.events {
            let due = started + .seconds(Double(index) / Double(max(plan.rate, 1)))
            if due > ContinuousClock.now { try await Task.sleep(until: due) }
            let room = plan.scenario == .fanout ? "restaurant:\(restaurant)" : "guest:\(prefix)-g\(held[index % held.count])"
            let payload: JSONValue = [
                "eventId": .string("\(prefix)-e\(index)"), "sentAt": .number(Double(wallClockMicroseconds())),
                "seq": .number(Double(index)),
            ]
            try await emitter.broadcast(.event("points_added", [payload]), options: BroadcastOptions(rooms: [room]))
            if index % 1000 == 999 { progress("published \(index + 1)/\(plan.events)") }
        }
        let deadline = ContinuousClock.now + plan.settle
        while ContinuousClock.now < deadline, try await recorders.snapshot().received < report.expected {
            try await Task.sleep(for: .milliseconds(50))
        }
        report.deliverySeconds = seconds(ContinuousClock.now - started)
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
