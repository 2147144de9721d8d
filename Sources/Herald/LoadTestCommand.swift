import ArgumentParser
import Foundation
import LoadTest
import Logging
import RedisClient
import SocketIO

/// `herald loadtest`: the load generator of SPEC section 7 (loopback targets only).
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Open many Socket.IO connections, publish events, measure deliveries and latency."
    )

    @Option(help: "The node or nginx to connect to (loopback only).")
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

    @Flag(help: "One JSON object on stdout (progress on stderr).")
    var json = false

    func validate() throws {
        guard LoadPlan.Scenario(rawValue: scenario) != nil else { throw ValidationError("--scenario must be idle, targeted or fanout") }
        guard connections > 0, events >= 0, rate > 0, ramp > 0, hold >= 0 else { throw ValidationError("counts must be positive") }
        guard let host = URL(string: url)?.host, ["127.", "localhost", "::1"].contains(where: { host.hasPrefix($0) }) else {
            throw ValidationError("--url must be a loopback address (127.0.0.0/8, localhost or ::1)")
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
        let target = URL(string: url)!
        let plan = LoadPlan(
            scenario: LoadPlan.Scenario(rawValue: scenario) ?? .targeted,
            host: target.host ?? "127.0.0.1", port: target.port ?? 80,
            connections: connections, events: events, rate: rate,
            sources: source.split(separator: ",").map(String.init),
            handshakesInFlight: ramp, hold: .seconds(hold),
            secret: Environment.string(jwtSecret, "HERALD_JWT_SECRET") ?? "",
            redis: Environment.string(redis, "HERALD_REDIS_URL").flatMap(RedisURL.init),
            gatewayPIDs: pids.split(separator: ",").compactMap { Int32($0) },
            settle: .seconds(15)
        )
        let report = try await LoadGenerator.run(plan, logger: Logger(label: "loadtest")) { line in
            writeError("loadtest: \(line)")
        }
        if json { print(report.json.jsonString) }
        writeError(report.table)
        if !report.succeeded { throw ExitCode(1) }
    }
}
