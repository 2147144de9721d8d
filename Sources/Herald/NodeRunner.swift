import Gateway
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Runs a node's services until SIGTERM or SIGINT, then shuts them down gracefully.
enum NodeRunner {
    static func run(_ services: [any Service], group: MultiThreadedEventLoopGroup, logger: Logger) async throws {
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await serviceGroup.run()
        } catch let error as IOError {
            // A port in use or an address that cannot be bound: one line, no stack trace.
            try? await group.shutdownGracefully()
            throw NodeError("cannot listen: \(error.description)")
        }
        try await group.shutdownGracefully()
    }
}

/// A failure to start, told in one line.
struct NodeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
