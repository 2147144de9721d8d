import ArgumentParser
import Foundation
import EngineIO
import Gateway
import HTTPServer
import Logging
import NIOCore
import NIOSSL
import RedisClient
import SocketIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The options shared by the server subcommands; each flag has its `HERALD_*` environment twin.
struct ServerOptions: ParsableArguments {
    @Option(help: "Port to listen on (HERALD_PORT, default 3000).")
    var port: Int?

    @Option(help: "Address to listen on (HERALD_HOST, default 0.0.0.0).")
    var host: String?

    @Option(name: .customLong("jwt-secret"), help: "HS256 secret of the tokens (HERALD_JWT_SECRET).")
    var jwtSecret: String?

    @Option(name: .customLong("node-id"), help: "This node's id, shown in `connected` (HERALD_NODE_ID, default the host name).")
    var nodeId: String?

    @Option(name: .customLong("cors-origin"), help: "Allowed browser origins, comma-separated (HERALD_CORS_ORIGINS, default any).")
    var corsOrigin: String?

    @Option(help: "Redis URL of the cluster, redis://[:password@]host:port[/db] (HERALD_REDIS_URL).")
    var redis: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (HERALD_LOG_LEVEL, default info).")
    var logLevel: String?

    @Option(name: .customLong("ping-interval"), help: ArgumentHelp("Engine.IO ping interval in ms (HERALD_PING_INTERVAL).", visibility: .hidden))
    var pingInterval: Int?

    @Option(name: .customLong("ping-timeout"), help: ArgumentHelp("Engine.IO ping timeout in ms (HERALD_PING_TIMEOUT).", visibility: .hidden))
    var pingTimeout: Int?

    @Option(name: .customLong("http-head-timeout"), help: ArgumentHelp("Seconds a request head may take (HERALD_HTTP_HEAD_TIMEOUT, default 10).", visibility: .hidden))
    var httpHeadTimeout: Int?

    @Option(name: .customLong("http-idle-timeout"), help: ArgumentHelp("Seconds a connection may idle between requests (HERALD_HTTP_IDLE_TIMEOUT, default 75).", visibility: .hidden))
    var httpIdleTimeout: Int?

    @Option(name: .customLong("max-connections-per-address"), help: "Connections one client address may hold at once, 0 for no bound (HERALD_MAX_CONNECTIONS_PER_ADDRESS, default 0: behind nginx every client has nginx's address).")
    var maxConnectionsPerAddress: Int?

    @Option(name: .customLong("recovery-window"), help: "Seconds after a lost connection in which a client gets its session and missed events back, 0 for off (HERALD_RECOVERY_WINDOW, default 120).")
    var recoveryWindow: Int?

    @Option(name: .customLong("recovery-events-per-room"), help: ArgumentHelp("Events kept per room for recovery (HERALD_RECOVERY_EVENTS_PER_ROOM, default 1000).", visibility: .hidden))
    var recoveryEventsPerRoom: Int?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS and WSS on the port (HERALD_TLS_CERT, with --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert (HERALD_TLS_KEY).")
    var tlsKey: String?

    @Option(name: .customLong("web-root"), help: "Directory of the web app and client library served at / and /client/ (HERALD_WEB_ROOT, default the web/ of the build or the installation).")
    var webRoot: String?

    func validate() throws {
        _ = try resolvedWebRoot()
        _ = try resolvedTLS()
        _ = try resolvedRecoveryLimits()
        _ = try resolvedRedis()
        _ = try resolvedPort()
        _ = try resolvedLogLevel()
        _ = try resolvedEngineConfiguration()
        _ = try resolvedHTTPConfiguration()
    }

    /// The listener: address, and the deadlines of its HTTP connections.
    func resolvedHTTPConfiguration() throws -> HTTPNodeServer.Configuration {
        var deadlines = HTTPDeadlines()
        if let seconds = try Environment.int(httpHeadTimeout, "HERALD_HTTP_HEAD_TIMEOUT") {
            guard (1...3_600).contains(seconds) else { throw ValidationError("--http-head-timeout must be 1 to 3600 seconds") }
            deadlines.head = .seconds(Int64(seconds))
        }
        if let seconds = try Environment.int(httpIdleTimeout, "HERALD_HTTP_IDLE_TIMEOUT") {
            guard (1...86_400).contains(seconds) else { throw ValidationError("--http-idle-timeout must be 1 to 86400 seconds") }
            deadlines.idle = .seconds(Int64(seconds))
        }
        let perAddress = try Environment.int(maxConnectionsPerAddress, "HERALD_MAX_CONNECTIONS_PER_ADDRESS") ?? 0
        guard perAddress >= 0 else { throw ValidationError("--max-connections-per-address must be 0 or more") }
        return HTTPNodeServer.Configuration(
            host: resolvedHost, port: try resolvedPort(), deadlines: deadlines, maxConnectionsPerAddress: perAddress,
            tls: try resolvedTLS()
        )
    }

    /// The TLS context of `--tls-cert` and `--tls-key` (PEM files), or nil for plain HTTP. One of
    /// the two without the other, or files that do not load, is a usage error in one line.
    func resolvedTLS() throws -> ChannelSecurity? {
        let cert = Environment.string(tlsCert, "HERALD_TLS_CERT"), key = Environment.string(tlsKey, "HERALD_TLS_KEY")
        switch (cert, key) {
        case (nil, nil):
            return nil
        case (let cert?, let key?):
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(cert)
                guard !chain.isEmpty else { throw ValidationError("--tls-cert \(cert) holds no certificate") }
                let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                var configuration = TLSConfiguration.makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey)
                )
                configuration.minimumTLSVersion = .tlsv12
                let context = try NIOSSLContext(configuration: configuration)
                return ChannelSecurity { channel in
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                }
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError("--tls-cert \(cert) / --tls-key \(key) do not load as PEM: \(error)")
            }
        default:
            throw ValidationError("--tls-cert and --tls-key go together")
        }
    }

    /// Where the web app's files are: the given directory, else the first that exists of the
    /// repository's `web/` beside a build (`.build/release/herald`), an installation's
    /// `share/herald/web` and `./web`. Nil when there is none (no page is served).
    func resolvedWebRoot() throws -> String? {
        if let given = Environment.string(webRoot, "HERALD_WEB_ROOT") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: given, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--web-root \(given.debugDescription) is not a directory")
            }
            return given
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [
            executable.appendingPathComponent("../../web").standardizedFileURL.path,
            executable.appendingPathComponent("../share/herald/web").standardizedFileURL.path,
            FileManager.default.currentDirectoryPath + "/web",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }

    /// The bounds of connection state recovery (SPEC section 4.1); nil when it is off.
    func resolvedRecoveryLimits() throws -> RecoveryLimits? {
        let window = try Environment.int(recoveryWindow, "HERALD_RECOVERY_WINDOW") ?? 120
        guard (0...86_400).contains(window) else { throw ValidationError("--recovery-window must be 0 to 86400 seconds") }
        let perRoom = try Environment.int(recoveryEventsPerRoom, "HERALD_RECOVERY_EVENTS_PER_ROOM") ?? 1_000
        guard (1...100_000).contains(perRoom) else { throw ValidationError("--recovery-events-per-room must be 1 to 100000") }
        guard window > 0 else { return nil }
        return RecoveryLimits(window: .seconds(window), eventsPerRoom: perRoom)
    }

    func resolvedPort() throws -> Int {
        guard let port = try Environment.int(port, "HERALD_PORT") ?? 3000 as Int?, (0...65535).contains(port) else {
            throw ValidationError("--port must be between 0 and 65535")
        }
        return port
    }

    /// The cluster's Redis, if any; a malformed URL is a usage error.
    func resolvedRedis() throws -> RedisURL? {
        guard let text = Environment.string(redis, "HERALD_REDIS_URL") else { return nil }
        guard let url = RedisURL(text) else {
            throw ValidationError("--redis must look like redis://[:password@]host:port[/db], not \(text.debugDescription)")
        }
        return url
    }

    var resolvedHost: String { Environment.string(host, "HERALD_HOST") ?? "0.0.0.0" }
    var resolvedSecret: String? { Environment.string(jwtSecret, "HERALD_JWT_SECRET") }

    var resolvedNodeId: String {
        if let id = Environment.string(nodeId, "HERALD_NODE_ID") { return id }
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return "herald" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func resolvedLogLevel() throws -> Logger.Level {
        let text = Environment.string(logLevel, "HERALD_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: text) else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return level
    }

    func resolvedEngineConfiguration() throws -> EngineConfiguration {
        var configuration = EngineConfiguration()
        configuration.cors = CORSPolicy(list: Environment.string(corsOrigin, "HERALD_CORS_ORIGINS"))
        if let interval = try Environment.int(pingInterval, "HERALD_PING_INTERVAL") {
            guard (1...3_600_000).contains(interval) else { throw ValidationError("--ping-interval must be 1 to 3600000 ms") }
            configuration.pingInterval = .milliseconds(Int64(interval))
        }
        if let timeout = try Environment.int(pingTimeout, "HERALD_PING_TIMEOUT") {
            guard (1...3_600_000).contains(timeout) else { throw ValidationError("--ping-timeout must be 1 to 3600000 ms") }
            configuration.pingTimeout = .milliseconds(Int64(timeout))
        }
        return configuration
    }

    /// Sends swift-log's lines to standard output at the chosen level.
    func bootstrapLogging() throws {
        let level = try resolvedLogLevel()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Reads a flag's environment twin when the flag is absent.
enum Environment {
    static func string(_ flag: String?, _ name: String) -> String? {
        if let flag { return flag }
        guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }

    static func int(_ flag: Int?, _ name: String) throws -> Int? {
        if let flag { return flag }
        guard let text = string(nil, name) else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) must be a whole number, not \(text.debugDescription)") }
        return value
    }
}
