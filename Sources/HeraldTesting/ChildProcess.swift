import Foundation

/// A process a test started: its output goes to a file, and it is stopped by PID.
///
/// A file rather than a pipe: nothing reads it while the test runs, nothing is lost when the
/// process ends, and a failing test can show all of it.
public final class ChildProcess: Sendable {
    private let process: Process
    private let outputPath: String

    /// Starts `executable`; stdout and stderr are collected together.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestSupportError("\(executable) is missing: run `scripts/test`, which builds and installs what the tests need")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let outputPath = TestPaths.temporaryFile("output.log")
        guard FileManager.default.createFile(atPath: outputPath, contents: nil) else {
            throw TestSupportError("cannot create \(outputPath)")
        }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try output.close()
        self.process = process
        self.outputPath = outputPath
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var exitCode: Int32 { process.terminationStatus }
    /// Everything printed so far.
    public var text: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    /// Waits until the output contains `needle` or the time is up; returns the output's line holding it.
    public func waitForLine(containing needle: String, timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = text.split(separator: "\n").first(where: { $0.contains(needle) }) { return String(line) }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("no line with \(needle.debugDescription) in time; output:\n\(text)")
    }

    /// Waits for the process to end by itself, at most `timeout`; kills it after that.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard !process.isRunning else {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL if it has not ended within `grace`.
    public func stop(grace: Duration = .seconds(10)) async {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        await waitForExit(timeout: grace)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A failure of the test support itself, said plainly.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
