import HeraldTesting
import Foundation
import Testing

/// The `herald` command line of SPEC section 2: refusals are one line with exit code 2.
@Suite struct CommandLineTests {
    func herald(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32?, String) {
        let process = try ChildProcess(TestPaths.heraldBinary, arguments, environment: environment)
        let code = await process.waitForExit(timeout: .seconds(20))
        return (code, process.text)
    }

    @Test func gatewayRefusesToStartWithoutSecret() async throws {
        let (code, output) = try await herald(["gateway", "--port", "0"], environment: ["HERALD_JWT_SECRET": ""])
        #expect(code == 2)
        #expect(output.contains("JWT secret"))
        #expect(output.split(separator: "\n").count == 1, "one line: \(output)")
    }

    @Test(arguments: [
        ["serve", "--port", "not-a-number"],
        ["serve", "--port", "70000"],
        ["serve", "--log-level", "loud"],
        ["serve", "--no-such-flag"],
        ["token", "--sub", "u", "--role", "chef", "--jwt-secret", "s"],
        ["token", "--sub", "u", "--role", "restaurant", "--jwt-secret", "s"],
        ["token", "--sub", "u", "--role", "guest"],
        ["serve", "--redis", "redis://127.0.0.1:6379"],
        ["gateway", "--redis", "http://not-redis", "--jwt-secret", "s"],
    ])
    func badInvocationsAreOneLineExitTwo(_ arguments: [String]) async throws {
        let (code, output) = try await herald(arguments, environment: ["HERALD_JWT_SECRET": ""])
        #expect(code == 2, "\(arguments): \(output)")
        #expect(output.split(separator: "\n").count == 1, "\(arguments): \(output)")
    }

    @Test func environmentTwinsAreRead() async throws {
        let (code, output) = try await herald(["serve", "--host", "127.0.0.1"], environment: ["HERALD_PORT": "many"])
        #expect(code == 2)
        #expect(output.contains("HERALD_PORT"))
    }

    @Test func serveWithoutSecretPrintsADemoToken() async throws {
        let process = try ChildProcess(TestPaths.heraldBinary, ["serve", "--host", "127.0.0.1", "--port", "0", "--db", TestPaths.temporaryFile("h.sqlite")],
                                       environment: ["HERALD_JWT_SECRET": ""])
        _ = try await process.waitForLine(containing: "listening on http://")
        let lines = process.text.split(separator: "\n")
        let index = try #require(lines.firstIndex { $0.contains("Demo admin token") })
        #expect(lines[index + 1].split(separator: ".").count == 3)
        await process.stop()
        #expect(process.exitCode == 0)
    }

    @Test func tokenCommandSignsForTheSecret() async throws {
        let (code, output) = try await herald(
            ["token", "--sub", "staff-1", "--role", "restaurant", "--restaurant", "r-1", "--ttl", "60"],
            environment: ["HERALD_JWT_SECRET": "cli-secret"])
        #expect(code == 0)
        let token = output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.split(separator: ".").count == 3)
        let outcome = try await PythonPeer.run("check_token.py", [token, "cli-secret"])
        #expect(outcome.succeeded, "\(outcome.output)")
    }
}
