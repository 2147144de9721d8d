import Foundation
import HeraldTesting
import Testing

/// `--tls-cert` / `--tls-key` with a self-signed certificate made for the test, driven by
/// python-socketio over WSS and HTTPS long-polling (`peers/tls_scenarios.py`). nginx terminating
/// TLS in front of the cluster is in `LocalClusterTests.tlsThroughNginx`.
@Suite struct TLSTests {
    @Test func serveOverTLS() async throws {
        let (cert, key) = try await makeSelfSignedCertificate()
        let node = try await HeraldNode.start(arguments: ["--tls-cert", cert, "--tls-key", key])
        #expect(node.scheme == "https")
        let outcome = try await PythonPeer.run("tls_scenarios.py", ["tls_transports", "--url", node.url, "--secret", node.secret, "--ca", cert])
        await node.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n--- herald log (tail) ---\n\(node.process.text.suffix(3000))")
    }

    @Test func aKeyWithoutItsCertificateIsAUsageError() async throws {
        let (_, key) = try await makeSelfSignedCertificate()
        let process = try ChildProcess(TestPaths.heraldBinary, ["serve", "--port", "0", "--tls-key", key])
        #expect(await process.waitForExit(timeout: .seconds(20)) == 2)
        #expect(process.text.contains("--tls-cert and --tls-key go together"), "\(process.text)")
        let garbage = TestPaths.temporaryFile("garbage.pem")
        try "not a certificate".write(toFile: garbage, atomically: true, encoding: .utf8)
        let bad = try ChildProcess(TestPaths.heraldBinary, ["serve", "--port", "0", "--tls-cert", garbage, "--tls-key", garbage])
        #expect(await bad.waitForExit(timeout: .seconds(20)) == 2)
        #expect(bad.text.contains("do not load as PEM"), "\(bad.text)")
    }
}

/// A throwaway self-signed certificate for `localhost` and 127.0.0.1, made with openssl.
func makeSelfSignedCertificate() async throws -> (cert: String, key: String) {
    let cert = TestPaths.temporaryFile("herald.crt"), key = TestPaths.temporaryFile("herald.key")
    let openssl = try ChildProcess("/usr/bin/openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
    ])
    let code = await openssl.waitForExit(timeout: .seconds(30))
    guard code == 0 else { throw TestSupportError("openssl failed: \(openssl.text)") }
    return (cert, key)
}
