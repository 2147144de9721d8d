import NIOConcurrencyHelpers
import NIOCore
import RedisClient

/// A Lua script run by its SHA1 (EVALSHA): loaded once, and again when Redis has forgotten it
/// (a restart answers NOSCRIPT), so a batch costs its arguments, not the script's text.
final class RedisScript: Sendable {
    let source: String
    private let sha = NIOLockedValueBox<String?>(nil)

    init(_ source: String) {
        self.source = source
    }

    func run(on client: RedisClient, _ arguments: [ByteBuffer]) async throws -> RESPValue {
        for attempt in 0..<2 {
            let sha = try await loadedSHA(on: client)
            do {
                return try await client.send(
                    RedisCommand([ByteBuffer(string: "EVALSHA"), ByteBuffer(string: sha), ByteBuffer(string: "0")] + arguments)
                )
            } catch let error as RedisError where error.message.hasPrefix("NOSCRIPT") && attempt == 0 {
                self.sha.withLockedValue { $0 = nil }
            }
        }
        throw RedisError("NOSCRIPT after loading the script again")
    }

    private func loadedSHA(on client: RedisClient) async throws -> String {
        if let known = sha.withLockedValue({ $0 }) { return known }
        guard let loaded = try await client.send(RedisCommand("SCRIPT", "LOAD", source)).string else {
            throw RedisError("SCRIPT LOAD gave no SHA1")
        }
        sha.withLockedValue { $0 = loaded }
        return loaded
    }
}
