import ArgumentParser
import Gateway
import HeraldAuth

/// `herald token`: prints a signed JWT, for development and tests.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a signed JWT.")

    @Option(help: "The user id (the `sub` claim).")
    var sub: String

    @Option(help: "guest, restaurant or admin.")
    var role: String

    @Option(help: "The restaurant id (required for role restaurant).")
    var restaurant: String?

    @Option(help: "Seconds until the token expires.")
    var ttl: Int = 3600

    @Option(name: .customLong("jwt-secret"), help: "HS256 secret (HERALD_JWT_SECRET).")
    var jwtSecret: String?

    func validate() throws {
        guard let role = Role(rawValue: role) else {
            throw ValidationError("--role must be guest, restaurant or admin")
        }
        guard !sub.isEmpty else { throw ValidationError("--sub must not be empty") }
        if role == .restaurant, restaurant?.isEmpty ?? true {
            throw ValidationError("--restaurant is required for role restaurant")
        }
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
        guard Environment.string(jwtSecret, "HERALD_JWT_SECRET") != nil else {
            throw ValidationError("token needs a JWT secret: pass --jwt-secret or set HERALD_JWT_SECRET")
        }
    }

    func run() async throws {
        let role = Role(rawValue: role) ?? .guest
        let authority = await TokenAuthority(secret: Environment.string(jwtSecret, "HERALD_JWT_SECRET") ?? "")
        let identity = Identity(userId: sub, role: role, restaurantId: role == .restaurant ? restaurant : nil)
        print(try await authority.sign(identity, ttl: ttl))
    }
}
