#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// The Python peers of the end-to-end tests.
    public static func scenario(_ name: String) -> String {
        packageRoot + "/Tests/EndToEndTests/peers/" + name
    }
}
