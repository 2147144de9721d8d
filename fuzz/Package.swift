// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for Herald's decoders (docs/fuzzing.md), kept out of the main build as
// benchmarks/micro is. Each target is an executable whose `LLVMFuzzerTestOneInput` libFuzzer's
// own main drives; build and run them with fuzz/run, which passes the sanitizer flags.
let herald: [Target.Dependency] = [
    .product(name: "Vocabulary", package: "Herald"),
    .product(name: "EngineIO", package: "Herald"),
    .product(name: "SocketIO", package: "Herald"),
    .product(name: "MessagePack", package: "Herald"),
    .product(name: "RedisClient", package: "Herald"),
    .product(name: "RedisAdapter", package: "Herald"),
    .product(name: "NIOCore", package: "swift-nio"),
    "FuzzSupport",
]

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

func fuzzTarget(_ name: String, _ extra: [Target.Dependency] = [], exclude: [String] = []) -> Target {
    .executableTarget(name: name, dependencies: herald + extra, exclude: exclude, swiftSettings: swiftSettings)
}

let package = Package(
    name: "HeraldFuzz",
    dependencies: [
        .package(name: "Herald", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64.git", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(
            name: "FuzzSupport",
            dependencies: ["CFuzzDriver", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        fuzzTarget("FuzzEnginePacket"),
        fuzzTarget("FuzzPollingPayload"),
        fuzzTarget("FuzzSocketIOPacket"),
        fuzzTarget("FuzzJSONText"),
        fuzzTarget("FuzzMessagePack"),
        fuzzTarget("FuzzRESP", [.product(name: "NIOEmbedded", package: "swift-nio")]),
        fuzzTarget("FuzzRedisBroadcast"),
        fuzzTarget("FuzzClusterRequest"),
        // HeraldAuth is no product of the Herald package: its sources are compiled into this
        // target through the symlink Sources/FuzzJWT/HeraldAuth -> ../../../Sources/HeraldAuth.
        fuzzTarget("FuzzJWT", [
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        fuzzTarget("FuzzHTTPRequest", [
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
