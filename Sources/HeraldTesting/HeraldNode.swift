import Foundation

/// A `herald` process on a free loopback port, stopped by PID when the test is done.
public final class HeraldNode: Sendable {
    public let process: ChildProcess
    public let port: Int
    public let secret: String
    /// `http`, or `https` for a node started with `--tls-cert`.
    public let scheme: String

    public var url: String { "\(scheme)://127.0.0.1:\(port)" }

    /// Starts `herald <subcommand>` on 127.0.0.1 with port 0 and reads the port it bound.
    public static func start(
        _ subcommand: String = "serve",
        secret: String = "test-secret-\(UUID().uuidString)",
        arguments: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> HeraldNode {
        // `serve` keeps its ledger in a fresh file of its own unless the test names one.
        var extra = arguments
        if subcommand == "serve", !arguments.contains("--db") {
            extra += ["--db", TestPaths.temporaryFile("herald.sqlite")]
        }
        let process = try ChildProcess(
            TestPaths.heraldBinary,
            [subcommand, "--host", "127.0.0.1", "--port", "0", "--jwt-secret", secret] + extra,
            environment: environment
        )
        let line = try await process.waitForLine(containing: "listening on http")
        guard let portText = line.split(separator: ":").last, let port = Int(portText) else {
            throw TestSupportError("cannot read the port from \(line.debugDescription)")
        }
        return HeraldNode(process: process, port: port, secret: secret, scheme: line.contains("https://") ? "https" : "http")
    }

    private init(process: ChildProcess, port: Int, secret: String, scheme: String) {
        self.process = process
        self.port = port
        self.secret = secret
        self.scheme = scheme
    }

    public func stop() async {
        await process.stop()
    }
}

/// Runs a Python peer from `Tests/EndToEndTests/peers` with the venv's interpreter.
public enum PythonPeer {
    public struct Outcome: Sendable {
        public let exitCode: Int32?
        public let output: String
        public var succeeded: Bool { exitCode == 0 }
    }

    public static func run(_ script: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> Outcome {
        let process = try ChildProcess(TestPaths.python, [TestPaths.scenario(script)] + arguments)
        let code = await process.waitForExit(timeout: timeout)
        return Outcome(exitCode: code, output: process.text)
    }
}
