import Foundation
import Logging

/// One plan over several processes: a process holds at most about 19,000 sockets here (its
/// open-file limit), so 50,000 connections take several.
///
/// The parent starts `count` workers of the same executable; worker `i` opens the plan's
/// connections `i, i+count, ...` and reports them; the parent publishes every event itself, tells
/// each worker how many deliveries to wait for, and merges what they received (histograms
/// included). The conversation is one JSON object per line over the workers' stdin and stdout;
/// their stderr is the parent's, for progress.
public enum LoadWorkers {
    struct Held: Codable {
        var held: [Int]
        var connectSeconds: Double
    }

    struct Expect: Codable {
        var deliveries: Int
    }

    /// The parent: runs `plan` over `count` workers; `command(i)` is worker i's command line.
    public static func run(
        _ plan: LoadPlan, count: Int, command: @Sendable (Int) -> (executable: String, arguments: [String]),
        logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws -> LoadReport {
        var report = LoadReport(scenario: plan.scenario.rawValue, requested: plan.connections)
        report.rssBefore = plan.gatewaysRSS()
        let workers = try (0..<count).map { index in
            let line = command(index)
            // The secret goes by environment, not on a command line `ps` shows.
            return try Worker(executable: line.executable, arguments: line.arguments, environment: ["HERALD_JWT_SECRET": plan.secret])
        }
        defer { workers.forEach { $0.stop() } }

        let connectBound = Duration.seconds(60 + plan.connections / 200)
        let helds = try await onEach(workers) { try await $0.read(Held.self, within: connectBound) }
        let held = helds.flatMap(\.held).sorted()
        report.held = held.count
        report.connectSeconds = helds.map(\.connectSeconds).max() ?? 0
        progress("\(count) workers hold \(held.count)/\(plan.connections) connections")

        try await LoadGenerator.drive(plan, held: held, report: &report, logger: logger, progress: progress)
        for (worker, part) in zip(workers, helds) {
            try worker.send(Expect(deliveries: plan.expectedDeliveries(held: held, mine: Set(part.held))))
        }
        let snapshots = try await onEach(workers) {
            try await $0.read(Tally.self, within: plan.settle + .seconds(30))
        }
        report.rssAfter = plan.gatewaysRSS()
        snapshots.forEach { report.tally.add($0) }
        for worker in workers { worker.finish() }
        for worker in workers { await worker.waitForExit(within: .seconds(20)) }
        return report
    }

    /// A worker: opens its share of the plan's connections, reports them, waits for the
    /// deliveries the parent announces, reports what arrived, and closes when told.
    public static func serve(
        _ plan: LoadPlan, worker index: Int, of count: Int, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws {
        let indices = Array(stride(from: index, to: plan.connections, by: count))
        let pool = try await ConnectionPool.open(plan, indices: indices, logger: logger, progress: progress)
        defer { pool.close() }
        try writeLine(Held(held: pool.held, connectSeconds: pool.connectSeconds))
        guard let line = await readStandardInput(), let expect = try? JSONDecoder().decode(Expect.self, from: Data(line.utf8)) else {
            throw LoadTestError("the parent went away")
        }
        try await pool.waitForDeliveries(expect.deliveries, settle: plan.settle)
        try writeLine(try await pool.recorders.snapshot())
        _ = await readStandardInput()
    }

    private static func writeLine(_ value: some Encodable) throws {
        FileHandle.standardOutput.write(try jsonLine(value))
    }

    /// One message of the conversation: a JSON object and a newline.
    static func jsonLine(_ value: some Encodable) throws -> Data {
        var data = try JSONEncoder().encode(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// One line of stdin, read off the event loops and the cooperative pool; nil at EOF.
    private static func readStandardInput() async -> String? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: readLine()) }
        }
    }

    private static func onEach<Result: Sendable>(
        _ workers: [Worker], _ body: @escaping @Sendable (Worker) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            for (index, worker) in workers.enumerated() { group.addTask { (index, try await body(worker)) } }
            var results: [(Int, Result)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// A worker process and its two pipes.
final class Worker: Sendable {
    private let process: Process
    private let input: FileHandle
    private let lines: LineReader

    init(executable: String, arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        self.process = process
        self.input = stdin.fileHandleForWriting
        self.lines = LineReader(stdout.fileHandleForReading)
    }

    func send(_ value: some Encodable) throws {
        try input.write(contentsOf: LoadWorkers.jsonLine(value))
    }

    /// The next line, decoded; fails when the worker exits first or `bound` passes.
    func read<Value: Decodable & Sendable>(_ type: Value.Type, within bound: Duration) async throws -> Value {
        let lines = self.lines
        let pid = process.processIdentifier
        let line: String? = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    Thread.detachNewThread { continuation.resume(returning: lines.next()) }
                }
            }
            group.addTask {
                try await Task.sleep(for: bound)
                // The reading thread returns once the pipe closes; the group waits for it.
                kill(pid, SIGKILL)
                throw LoadTestError("worker \(pid) said nothing within \(bound)")
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let line else { throw LoadTestError("worker \(pid) exited early") }
        return try JSONDecoder().decode(Value.self, from: Data(line.utf8))
    }

    /// Tells the worker to close its connections and exit.
    func finish() {
        try? input.close()
    }

    func waitForExit(within bound: Duration) async {
        let deadline = ContinuousClock.now + bound
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        stop()
    }

    /// Kills the worker if it still runs.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Blocking line reads from a pipe (called on a thread of its own).
final class LineReader: @unchecked Sendable {
    // Touched by one reading thread at a time: `Worker.read` is awaited before the next call.
    private let handle: FileHandle
    private var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
