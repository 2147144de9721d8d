import Benchmark

/// Every suite of this target; BenchmarkPlugin's generated `main` calls this.
let benchmarks: @Sendable () -> Void = {
    engineIOBenchmarks()
    socketIOBenchmarks()
    broadcastBenchmarks()
    respBenchmarks()
    roomRegistryBenchmarks()
}

extension Benchmark.Configuration {
    /// Time, throughput and mallocs of one operation, with `scaling` operations per iteration.
    static func perOperation(_ scaling: BenchmarkScalingFactor) -> Self {
        .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: scaling, maxDuration: .seconds(1))
    }
}
