// swift-tools-version: 6.1
import PackageDescription

// Micro-benchmarks of Herald's hot paths (ordo-one/benchmark), kept out of the main build as
// swift-nio keeps its Benchmarks package. Run them with benchmarks/micro-benchmarks.
let package = Package(
    name: "HeraldMicroBenchmarks",
    dependencies: [
        .package(name: "Herald", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "HeraldMicro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Vocabulary", package: "Herald"),
                .product(name: "EngineIO", package: "Herald"),
                .product(name: "SocketIO", package: "Herald"),
                .product(name: "MessagePack", package: "Herald"),
                .product(name: "RedisClient", package: "Herald"),
                .product(name: "RedisAdapter", package: "Herald"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Benchmarks/HeraldMicro",
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
