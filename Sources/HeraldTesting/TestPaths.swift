import Foundation

/// Where the test support finds the things a test run needs.
public enum TestPaths {
    /// The package root (this file is `Sources/HeraldTesting/TestPaths.swift`).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built `herald` (`scripts/test` builds it first); `HERALD_BIN` overrides.
    public static var heraldBinary: String {
        ProcessInfo.processInfo.environment["HERALD_BIN"] ?? packageRoot + "/.build/debug/herald"
    }

    /// The Python of the venv `scripts/bootstrap` creates; `HERALD_PYTHON` overrides.
    public static var python: String {
        ProcessInfo.processInfo.environment["HERALD_PYTHON"] ?? packageRoot + "/.venv/bin/python"
    }

    /// A program installed in the venv (`schemathesis`).
    public static func venvBinary(_ name: String) -> String {
        URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// A path in a fresh temporary directory, for a file a test makes.
    public static func temporaryFile(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    /// The Python peers of the end-to-end tests.
    public static func scenario(_ name: String) -> String {
        packageRoot + "/Tests/EndToEndTests/peers/" + name
    }
}
