import Foundation
import Logging
import NIOPosix
import RedisClient

/// A throwaway `redis-server` (Debian's, installed by `scripts/bootstrap`) on a free loopback port,
/// without persistence, stopped by PID.
public final class RedisServer: Sendable {
    public let port: Int
    public let process: ChildProcess
    private let password: String?

    public var url: String { "redis://127.0.0.1:\(port)" }

    /// Starts a server; `port` reuses a port (a restart).
    public static func start(port: Int? = nil, password: String? = nil) async throws -> RedisServer {
        let port = try port ?? freeLoopbackPort()
        guard let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: FileManager.default.isExecutableFile)
        else { throw TestSupportError("redis-server is not installed: run scripts/test, which installs it from Debian") }
        let process = try ChildProcess(binary, [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
        ] + (password.map { ["--requirepass", $0] } ?? []))
        _ = try await process.waitForLine(containing: "Ready to accept connections", timeout: .seconds(20))
        return RedisServer(port: port, process: process, password: password)
    }

    private init(port: Int, process: ChildProcess, password: String?) {
        self.port = port
        self.process = process
        self.password = password
    }

    /// `SHUTDOWN NOSAVE`, then SIGTERM and SIGKILL if it is still there.
    ///
    /// A child started from an async test inherits a signal mask that blocks SIGTERM (Foundation's
    /// `Process` spawns from a libdispatch thread), so redis-server would sit out the grace period
    /// and die by SIGKILL; asked over its own protocol it stops at once.
    public func stop() async {
        if let cli = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first(where: FileManager.default.isExecutableFile),
           let shutdown = try? ChildProcess(cli, ["-h", "127.0.0.1", "-p", String(port)]
               + (password.map { ["-a", $0, "--no-auth-warning"] } ?? []) + ["shutdown", "nosave"]) {
            await shutdown.waitForExit(timeout: .seconds(2))
            await process.waitForExit(timeout: .seconds(2))
        }
        await process.stop(grace: .seconds(3))
    }
}

extension RedisServer {
    /// Runs `body` with a connected `RedisClient` on a throwaway server, then stops both.
    public static func withClient(_ body: (RedisClient) async throws -> Void) async throws {
        let redis = try await RedisServer.start()
        guard let url = RedisURL(redis.url) else { throw TestSupportError("bad Redis URL \(redis.url)") }
        let client = RedisClient(url: url, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        let running = Task { try await client.run() }
        defer { running.cancel() }
        do {
            guard await client.waitUntilConnected(timeout: .seconds(10)) else { throw TestSupportError("no Redis connection") }
            try await body(client)
        } catch {
            await redis.stop()
            throw error
        }
        await redis.stop()
    }
}
