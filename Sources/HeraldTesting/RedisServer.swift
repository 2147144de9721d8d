import Foundation

/// A throwaway `redis-server` (Debian's, installed by `scripts/bootstrap`) on a free loopback port,
/// without persistence, stopped by PID.
public final class RedisServer: Sendable {
    public let port: Int
    public let process: ChildProcess

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
        return RedisServer(port: port, process: process)
    }

    private init(port: Int, process: ChildProcess) {
        self.port = port
        self.process = process
    }

    public func stop() async {
        await process.stop(grace: .seconds(5))
    }
}
