import HeraldTesting
import Testing

/// The web app at `/` and its client library (SPEC section 8) in headless Chromium, driven by
/// selenium (`peers/webapp_scenarios.py`), against `herald serve --demo`: sign-in, toasts, the
/// badge, the notification center across two tabs, the sound setting across a reload, the staff
/// and admin views, no console errors (screenshots in .build/screenshots). The page through nginx
/// with its gateway killed runs in `LocalClusterTests`.
@Suite(.serialized) struct WebAppTests {
    @Test(arguments: ["webapp_guest", "webapp_staff"])
    func inChromium(_ name: String) async throws {
        try await run(name, nodeArguments: ["--demo"])
    }

    @Test func filesWithoutTheDemo() async throws {
        try await run("webapp_files_without_demo")
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
