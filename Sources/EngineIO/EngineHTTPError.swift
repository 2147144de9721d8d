import HTTPServer
import NIOHTTP1

/// The HTTP refusals of the Engine.IO server, with the codes and messages of the Node server.
enum EngineHTTPError: Int, Error {
    case unknownTransport = 0
    case unknownSession = 1
    case badHandshakeMethod = 2
    case badRequest = 3
    case forbidden = 4
    case unsupportedProtocolVersion = 5

    var message: String {
        switch self {
        case .unknownTransport: "Transport unknown"
        case .unknownSession: "Session ID unknown"
        case .badHandshakeMethod: "Bad handshake method"
        case .badRequest: "Bad request"
        case .forbidden: "Forbidden"
        case .unsupportedProtocolVersion: "Unsupported protocol version"
        }
    }

    func respond(with responder: HTTPResponder) {
        responder.respond(
            self == .forbidden ? .forbidden : .badRequest,
            json: #"{"code":\#(rawValue),"message":"\#(message)"}"#
        )
    }

    /// The checks every request to the endpoint passes before anything else.
    static func check(query: QueryItems, origin: String?, cors: CORSPolicy) -> EngineHTTPError? {
        guard query["EIO"] == "4" else { return .unsupportedProtocolVersion }
        guard let transport = query["transport"], TransportName(rawValue: transport) != nil else {
            return .unknownTransport
        }
        guard cors.allows(origin: origin) else { return .forbidden }
        return nil
    }
}

/// The query string of a request URI, decoded enough for Engine.IO's parameters.
struct QueryItems {
    private var items: [Substring: Substring] = [:]

    init(uri: String) {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if items[parts[0]] == nil { items[parts[0]] = parts.count > 1 ? parts[1] : "" }
        }
    }

    subscript(name: Substring) -> String? {
        items[name].map(String.init)
    }
}
