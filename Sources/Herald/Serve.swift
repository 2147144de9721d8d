import ArgumentParser
import Gateway
import HeraldAuth
import Logging
import NIOCore
import NIOPosix

/// `herald serve`: gateway and (with its issue) points API in one process, in-process adapter.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run everything in one process on one port (default 3000)."
    )

    @OptionGroup var options: ServerOptions

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
        let assembly = try GatewayAssembly(options: options, group: group, authority: authority, logger: logger)
        let server = try assembly.server(options: options, group: group, endpoints: [], logger: logger)
        try await NodeRunner.run([server], group: group, logger: logger)
    }
}

/// 32 random bytes, hex.
func randomSecret() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in
        let byte = UInt8.random(in: .min ... .max, using: &generator)
        return String(byte, radix: 16).leftPadded(to: 2)
    }.joined()
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
