import ArgumentParser
import HeraldAuth
import Logging
import NIOCore
import NIOPosix
import Notifications

/// `herald gateway`: a Socket.IO gateway node.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run a gateway node (Socket.IO over Engine.IO); with --redis, a node of the cluster."
    )

    @OptionGroup var options: ServerOptions

    func validate() throws {
        guard options.resolvedSecret != nil else {
            throw ValidationError("gateway needs a JWT secret: pass --jwt-secret or set HERALD_JWT_SECRET")
        }
    }

    func run() async throws {
        try options.bootstrapLogging()
        let logger = Logger(label: "herald")
        let authority = await TokenAuthority(
            secret: options.resolvedSecret ?? "", cacheCapacity: TokenAuthority.gatewayCacheCapacity
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let assembly = try GatewayAssembly(
            options: options, group: group, authority: authority, notifications: MemoryNotificationStore(), logger: logger
        )
        let server = try assembly.server(options: options, group: group, endpoints: [], isReady: assembly.isReady, logger: logger)
        try await NodeRunner.run(assembly.services + [server], group: group, logger: logger)
    }
}
