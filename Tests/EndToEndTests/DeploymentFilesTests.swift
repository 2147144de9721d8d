import Foundation
import HeraldTesting
import Testing

/// docker-compose.yml, the Dockerfile and nginx's template, checked without a Docker engine
/// (`peers/deployment_check.py`: the Compose schema with jsonschema, then SPEC section 6).
@Suite struct DeploymentFilesTests {
    @Test func composeFileAndFriendsHold() async throws {
        let outcome = try await PythonPeer.run("deployment_check.py", [TestPaths.packageRoot])
        #expect(outcome.succeeded, "\(outcome.output)")
    }

    /// The check catches what it is for: a typo'd key, a fixed container name on the gateway.
    @Test func aBrokenComposeFileFails() async throws {
        let copy = TestPaths.temporaryFile("deploy-copy")
        try FileManager.default.copyItem(atPath: TestPaths.packageRoot + "/deploy", toPath: copy + "/deploy")
        try FileManager.default.copyItem(atPath: TestPaths.packageRoot + "/nginx", toPath: copy + "/nginx")
        var compose = try String(contentsOfFile: TestPaths.packageRoot + "/docker-compose.yml", encoding: .utf8)
        compose = compose.replacingOccurrences(
            of: "\n  gateway:\n    <<: *herald\n",
            with: "\n  gateway:\n    <<: *herald\n    container_name: the-gateway\n    healthchek: {}\n")
        try compose.write(toFile: copy + "/docker-compose.yml", atomically: true, encoding: .utf8)
        let outcome = try await PythonPeer.run("deployment_check.py", [copy])
        #expect(!outcome.succeeded)
        #expect(outcome.output.contains("healthchek"), "\(outcome.output)")
        #expect(outcome.output.contains("no container_name"), "\(outcome.output)")
    }
}
