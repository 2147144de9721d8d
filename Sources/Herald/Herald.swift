import ArgumentParser
import CMalloc

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `herald`: one binary, one subcommand per role (SPEC section 2).
@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Herald: the real-time notification cluster of a restaurant loyalty platform.",
        subcommands: [Serve.self, GatewayCommand.self, PointsAPICommand.self, Token.self, LoadTestCommand.self]
    )

    /// Every error ends in one line on stderr; usage errors exit 2 (SPEC section 2).
    static func main() async {
        keepFreedMemoryMapped()
        pinLocalTimeZone()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            // A command that ends with a status of its own (loadtest: 1 when anything was lost).
            Glibc.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            writeError("herald: \(message)")
            Glibc.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// Writes one line to standard error.
func writeError(_ line: String) {
    let text = line + "\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

/// Without `TZ`, glibc's `tzset` stats /etc/localtime again for every local time it formats:
/// a system call on each log line's timestamp (swift-log's `StreamLogHandler`), two per
/// connection (strace). With `TZ` set to the same file it reads it once; a `TZ` given is kept.
func pinLocalTimeZone() {
    setenv("TZ", ":/etc/localtime", 0)
}

/// glibc returns freed memory to the kernel (madvise) as soon as the top of a heap passes
/// 128 KiB free; a server that allocates and frees per request then pays a system call and
/// page faults again and again (4.5% of a points API request in perf, ~15% of its throughput).
/// Keeping up to 64 MiB freed before trimming trades that for a little RSS after a peak.
func keepFreedMemoryMapped() {
    mallopt(M_TRIM_THRESHOLD, 64 << 20)
    mallopt(M_TOP_PAD, 16 << 20)
}
