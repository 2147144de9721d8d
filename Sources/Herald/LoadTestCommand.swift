import ArgumentParser
import Foundation
import LoadTest
import Logging
import RedisClient
import SocketIO
import Vocabulary

/// `herald loadtest`: the load generator of SPEC section 7 (loopback targets only).
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Open many Socket.IO connections, publish events, measure deliveries and latency."
    )

    @Option(help: "The node or nginx to connect to, or several nodes comma-separated (loopback only).")
    var url: String

    @Option(help: "idle, targeted or fanout.")
    var scenario: String = "targeted"

    @Option(help: "Connections to open.")
    var connections: Int = 1000

    @Option(help: "Events to publish.")
    var events: Int = 1000

    @Option(help: "Events per second.")
    var rate: Int = 1000

    @Option(help: "Redis to publish events into, in the emitter format (HERALD_REDIS_URL).")
    var redis: String?

    @Option(help: "Without --redis: the points API to post events to (default: the first --url).")
    var api: String?

    @Option(name: .customLong("jwt-secret"), help: "Secret to mint the clients' tokens with (HERALD_JWT_SECRET).")
    var jwtSecret: String?

    @Option(help: "Local addresses to connect from, comma-separated (127.0.0.1,127.0.0.2,...).")
    var source: String = ""

    @Option(help: "Handshakes in flight at once.")
    var ramp: Int = 200

    @Option(help: "Seconds to hold the connections (idle).")
    var hold: Int = 5

    @Option(help: "PIDs of the gateways whose RSS to read, comma-separated.")
    var pids: String = ""

    @Option(help: "Seconds to wait for the last deliveries after the last publish.")
    var settle: Int = 15

    @Option(help: "Worker processes to spread the connections over (one process holds about 19,000).")
    var processes: Int = 1

    @Option(help: .hidden)
    var worker: String?

    @Option(help: .hidden)
    var prefix: String?

    @Flag(help: "With --redis: publish as the outbox relay does with connection state recovery on (offsets, room logs).")
    var recoverable = false

    @Flag(help: "One JSON object on stdout (progress on stderr).")
    var json = false

    func validate() throws {
        guard LoadPlan.Scenario(rawValue: scenario) != nil else { throw ValidationError("--scenario must be idle, targeted or fanout") }
        guard connections > 0, events >= 0, rate > 0, ramp > 0, hold >= 0, settle >= 0, (1...64).contains(processes) else {
            throw ValidationError("counts must be positive (and --processes at most 64)")
        }
        guard let targets = Self.targets(url), !targets.isEmpty,
              targets.allSatisfy({ target in ["127.", "localhost", "::1"].contains(where: { target.host.hasPrefix($0) }) })
        else {
            throw ValidationError("--url must be loopback addresses (127.0.0.0/8, localhost or ::1)")
        }
        if let worker, Self.workerSlice(worker) == nil { throw ValidationError("--worker is i/n") }
        if let api {
            guard let target = Self.targets(api)?.first, target.host.hasPrefix("127.") || target.host == "localhost" else {
                throw ValidationError("--api must be a loopback URL")
            }
        }
        guard Environment.string(jwtSecret, "HERALD_JWT_SECRET") != nil else {
            throw ValidationError("loadtest needs the JWT secret of the target: --jwt-secret or HERALD_JWT_SECRET")
        }
        if let redis = Environment.string(redis, "HERALD_REDIS_URL") {
            guard let parsed = RedisURL(redis), parsed.host.hasPrefix("127.") || parsed.host == "localhost" else {
                throw ValidationError("--redis must be a redis:// URL on loopback")
            }
        }
    }

    func run() async throws {
        var plan = LoadPlan(
            scenario: LoadPlan.Scenario(rawValue: scenario) ?? .targeted,
            targets: Self.targets(url) ?? [],
            connections: connections, events: events, rate: rate,
            sources: source.split(separator: ",").map(String.init),
            handshakesInFlight: ramp, hold: .seconds(hold),
            secret: Environment.string(jwtSecret, "HERALD_JWT_SECRET") ?? "",
            redis: Environment.string(redis, "HERALD_REDIS_URL").flatMap(RedisURL.init),
            gatewayPIDs: pids.split(separator: ",").compactMap { Int32($0) },
            settle: .seconds(settle)
        )
        if let prefix { plan.prefix = prefix }
        plan.recoverable = recoverable
        plan.api = Self.targets(api ?? url)?.first
        let logger = Logger(label: "loadtest")
        if let worker, let (index, count) = Self.workerSlice(worker) {
            try await LoadWorkers.serve(plan, worker: index, of: count, logger: logger) { line in
                writeError("loadtest[\(index)]: \(line)")
            }
            return
        }
        let progress: @Sendable (String) -> Void = { line in writeError("loadtest: \(line)") }
        let report: LoadReport
        if processes > 1 {
            let arguments = workerArguments(prefix: plan.prefix)
            report = try await LoadWorkers.run(plan, count: processes, command: { index in
                ("/proc/self/exe", arguments + ["--worker", "\(index)/\(processes)"])
            }, logger: logger, progress: progress)
        } else {
            report = try await LoadGenerator.run(plan, logger: logger, progress: progress)
        }
        if json { print(report.json.jsonString) }
        writeError(report.table)
        if !report.succeeded { throw ExitCode(1) }
    }

    /// The command line of a worker: this one's plan, with the run's prefix and no `--processes`
    /// (the secret goes by environment).
    private func workerArguments(prefix: String) -> [String] {
        var arguments = [
            "loadtest", "--url", url, "--scenario", scenario, "--connections", "\(connections)", "--events", "\(events)",
            "--rate", "\(rate)", "--ramp", "\(ramp)", "--hold", "\(hold)", "--settle", "\(settle)", "--prefix", prefix,
        ]
        if !source.isEmpty { arguments += ["--source", source] }
        return arguments
    }

    static func targets(_ list: String) -> [LoadPlan.Target]? {
        var targets: [LoadPlan.Target] = []
        for item in list.split(separator: ",") {
            guard let url = URL(string: String(item)), let host = url.host else { return nil }
            targets.append(LoadPlan.Target(host: host, port: url.port ?? 80))
        }
        return targets
    }

    static func workerSlice(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] > 0, (0..<parts[1]).contains(parts[0]) else { return nil }
        return (parts[0], parts[1])
    }
}
