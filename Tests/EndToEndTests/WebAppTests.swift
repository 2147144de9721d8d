import Foundation
import HeraldTesting
import Testing

/// The web app at `/` and its client library (SPEC section 8) in headless Chromium, driven by
/// selenium (`peers/webapp_scenarios.py`), against `herald serve --demo`: sign-in, toasts, the
/// badge, the notification center across two tabs, the sound setting across a reload, the staff
/// and admin views, no console errors (screenshots in .build/screenshots). The page through nginx
/// with its gateway killed runs in `LocalClusterTests`.
@Suite(.serialized) struct WebAppTests {
    @Test(arguments: ["webapp_guest", "webapp_staff", "library_from_another_origin"])
    func inChromium(_ name: String) async throws {
        try await run(name, nodeArguments: ["--demo"])
    }

    @Test func filesWithoutTheDemo() async throws {
        try await run("webapp_files_without_demo")
    }

    /// The node stops under the page, which gives up after its 5 attempts, then starts again on the
    /// same port; the page's Reconnect button connects it.
    @Test func givesUpThenReconnects() async throws {
        let port = try freeLoopbackPort()
        let secret = "test-secret-\(UUID().uuidString)"
        let database = TestPaths.temporaryFile("herald.sqlite")
        let arguments = ["--demo", "--port", String(port), "--db", database]
        let first = try await HeraldNode.start(secret: secret, arguments: arguments)
        let page = try ChildProcess(TestPaths.python, [
            TestPaths.scenario("webapp_scenarios.py"), "webapp_gives_up_and_reconnects", "--url", first.url, "--secret", secret,
        ])
        var second: HeraldNode?
        do {
            _ = try await page.waitForLine(containing: "signed-in", timeout: .seconds(60))
            await first.stop()
            _ = try await page.waitForLine(containing: "gave-up", timeout: .seconds(60))
            second = try await HeraldNode.start(secret: secret, arguments: arguments)
        } catch {
            Issue.record("\(error)")
        }
        let code = await page.waitForExit(timeout: .seconds(60))
        await second?.stop()
        await first.stop()
        #expect(code == 0, "\(page.text)")
    }

    private func run(_ name: String, nodeArguments: [String] = []) async throws {
        let node = try await HeraldNode.start(arguments: nodeArguments)
        let outcome = try await PythonPeer.run(
            "webapp_scenarios.py", [name, "--url", node.url, "--secret", node.secret], timeout: .seconds(120)
        )
        await node.stop()
        #expect(outcome.succeeded, "\(outcome.output)\n--- herald log (tail) ---\n\(node.process.text.suffix(3000))")
    }
}
