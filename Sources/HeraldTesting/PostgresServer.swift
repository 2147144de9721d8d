import Foundation

/// A throwaway PostgreSQL server (Debian's `postgresql` package, installed by `scripts/bootstrap`)
/// on a free loopback port with its data in a temporary directory, stopped by PID.
///
/// `initdb` runs once per test process; each server starts from a copy of that cluster.
/// PostgreSQL refuses to run as root, so under root it runs as the `postgres` user.
public final class PostgresServer: Sendable {
    public let url: String
    private let process: ChildProcess
    private let directory: String

    public static func start() async throws -> PostgresServer {
        let template = try await Template.shared.value
        let directory = TestPaths.temporaryFile("postgres")
        try await run("/bin/cp", ["-a", template.dataDirectory, directory])
        let port = try freeLoopbackPort()
        let process = try ChildProcess(template.launcher, template.launcherArguments + [
            template.binaries + "/postgres", "-D", directory, "-p", String(port), "-k", directory,
            "-h", "127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ])
        _ = try await process.waitForLine(containing: "ready to accept connections", timeout: .seconds(30))
        return PostgresServer(url: "postgres://herald@127.0.0.1:\(port)/postgres", process: process, directory: directory)
    }

    private init(url: String, process: ChildProcess, directory: String) {
        self.url = url
        self.process = process
        self.directory = directory
    }

    /// Fast shutdown (SIGINT), then the data is removed.
    public func stop() async {
        kill(process.pid, SIGINT)
        await process.waitForExit(timeout: .seconds(10))
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The cluster `initdb` made once, and how to run PostgreSQL's programs here.
    private struct Template: Sendable {
        let binaries: String
        let dataDirectory: String
        let launcher: String
        let launcherArguments: [String]

        static let shared = Task { try await make() }

        static func make() async throws -> Template {
            let root = "/usr/lib/postgresql"
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.compactMap(Int.init).sorted() ?? []
            guard let version = versions.last else {
                throw TestSupportError("PostgreSQL is not installed: run scripts/test, which installs it from Debian")
            }
            let binaries = "\(root)/\(version)/bin"
            let directory = TestPaths.temporaryFile("template")
            var launcher = "/usr/bin/env", arguments: [String] = []
            if getuid() == 0 {
                // setpriv execs in place, so the PID we hold is the server's own.
                launcher = "/usr/bin/setpriv"
                arguments = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
                try await run("/bin/chown", ["postgres:postgres", URL(fileURLWithPath: directory).deletingLastPathComponent().path])
            }
            try await run(launcher, arguments + [binaries + "/initdb", "-D", directory, "-U", "herald", "--auth=trust",
                                                 "-E", "UTF8", "--no-sync"])
            return Template(binaries: binaries, dataDirectory: directory, launcher: launcher, launcherArguments: arguments)
        }
    }

    private static func run(_ executable: String, _ arguments: [String]) async throws {
        let process = try ChildProcess(executable, arguments)
        let code = await process.waitForExit(timeout: .seconds(60))
        guard code == 0 else { throw TestSupportError("\(executable) \(arguments.joined(separator: " ")) failed:\n\(process.text)") }
    }
}
