import SocketIO
import Vocabulary

/// A refusal of a client request, with the codes of SPEC section 3 and 4.
public struct GatewayError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        case forbidden
        case invalidChannel = "invalid_channel"
        case tooManyRooms = "too_many_rooms"
        case unknownAction = "unknown_action"
        case notFound = "not_found"
        case rateLimited = "rate_limited"
        /// The notification center could not be reached (its Redis is down); try again.
        case unavailable
        /// A binary event: none of Herald's client events takes binary arguments.
        case binaryNotSupported = "binary_not_supported"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `{code, message}`: the payload of the `error` event.
    public var body: JSONValue {
        ["code": .string(code.rawValue), "message": .string(message)]
    }

    /// `{ok: false, error: {code, message}}`: the failed ack.
    public var ackBody: JSONValue {
        ["ok": false, "error": body]
    }
}
