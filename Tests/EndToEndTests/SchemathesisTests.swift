import HeraldAuth
import HeraldTesting
import Testing

/// schemathesis (PyPI) generates requests from the committed OpenAPI document, served by the
/// node at `/api/openapi.yaml`, and checks every answer: no server error, and status, content
/// type and body as the document says.
@Suite struct SchemathesisTests {
    @Test func apiConformsToItsOpenAPIDocument() async throws {
        let node = try await HeraldNode.start()
        let admin = try await TokenAuthority(secret: node.secret).sign(Identity(userId: "schemathesis", role: .admin), ttl: 3600)
        let schemathesis = try ChildProcess(TestPaths.venvBinary("schemathesis"), [
            "run", node.url + "/api/openapi.yaml", "--url", node.url,
            "--header", "Authorization: Bearer \(admin)",
            "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples", "25", "--seed", "20261125",
            // One worker: hypothesis describes strategies by parsing lambda sources, which CPython 3.11
            // can get wrong when two threads do it at once ("AST constructor recursion depth mismatch").
            "--workers", "1",
        ])
        let code = await schemathesis.waitForExit(timeout: .seconds(300))
        await node.stop()
        #expect(code == 0, "\(schemathesis.text.suffix(6000))")
        #expect(!node.process.text.contains("error"), "herald logged an error: \(node.process.text.suffix(3000))")
    }
}
