import ArgumentParser
import EngineIO
import Gateway
import HTTPServer
import HeraldAuth
import Logging
import PointsAPI
import PointsLedger
import NIOCore
import NIOPosix
import Notifications

/// `herald serve`: gateway and (with its issue) points API in one process, in-process adapter.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run everything in one process on one port (default 3000)."
    )

    @OptionGroup var options: ServerOptions
    @OptionGroup var ledgerOptions: LedgerOptions

    @Flag(help: "Development only: let the page at / sign in as any demo guest, restaurant or admin (POST /demo/token; HERALD_DEMO=1).")
    var demo = false

    var demoEnabled: Bool { demo || Environment.string(nil, "HERALD_DEMO").map { ["1", "true", "yes"].contains($0) } == true }

    func validate() throws {
        // `serve` is the all-in-one node with its in-process adapter (SPEC section 1); a
        // cluster is gateways and a points API on Redis.
        if try options.resolvedRedis() != nil {
            throw ValidationError("serve runs alone with its in-process adapter; in a cluster run gateway and points-api with --redis")
        }
    }

    func run() async throws {
        try options.bootstrapLogging()
        let logger = Logger(label: "herald")
        let secret: String
        var demoToken = false
        if let given = options.resolvedSecret {
            secret = given
        } else {
            secret = randomSecret()
            demoToken = true
        }
        let authority = await TokenAuthority(secret: secret)
        if demoToken {
            let token = try await authority.sign(Identity(userId: "demo-admin", role: .admin), ttl: 86_400)
            print("No JWT secret given: generated one for this run. Demo admin token (24 h):")
            print(token)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let ledger = try await ledgerOptions.openLedger(logger: logger)
        let notifications = MemoryNotificationStore()
        // The sockets' tokens in a small cache of their own (see `TokenAuthority.init`).
        let socketAuthority = await TokenAuthority(secret: secret, cacheCapacity: TokenAuthority.gatewayCacheCapacity)
        let assembly = try GatewayAssembly(
            options: options, group: group, authority: socketAuthority, notifications: notifications, logger: logger
        )
        let gateway = assembly.gateway
        // Under `serve` the outbox publishes straight into this process's adapter.
        let relay = OutboxRelay(
            ledger: ledger, broadcaster: NotificationRecorder(next: gateway.adapter, store: notifications), logger: logger
        )
        let api = PointsEndpoint(
            ledger: ledger, authority: authority, presence: gateway.adapter, logger: logger
        )
        if demoEnabled {
            logger.warning("[Demo] POST /demo/token signs a token for anyone who asks: development only")
        }
        let server = try assembly.server(
            options: options, group: group, endpoints: [api], demo: demoEnabled ? authority : nil,
            isReady: { await ledger.isReachable() }, logger: logger
        )
        // Shut down in reverse: the listener first, then the relay's last pass over the outbox.
        try await NodeRunner.run([relay, server], group: group, logger: logger)
    }
}

/// 45 random bytes in base64url, made with the session-id generator the server already has.
func randomSecret() -> String {
    (0..<3).map { _ in EngineServer.makeSessionID() }.joined()
}
