import NIOCore
import NIOHTTP1

/// A part of a node's HTTP surface: `/socket.io/`, `/api/`, or the operations endpoints.
///
/// The connection handler reads a request's whole body (up to `maxBodySize`, else 413) and
/// hands it to the first endpoint that claims the path.
public protocol HTTPEndpoint: Sendable {
    /// Whether this endpoint answers requests to `path` (without the query).
    func handles(path: Substring) -> Bool
    /// The largest body accepted; larger requests get 413 before anything else (SPEC 5.1).
    var maxBodySize: Int { get }
    /// Answers one request, now or later, through a `HTTPResponder`.
    func handle(head: HTTPRequestHead, body: ByteBuffer, channel: any Channel)
}

extension HTTPRequestHead {
    /// The path without the query.
    public var path: Substring {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }
}

/// The JSON error body of SPEC section 5: `{"error": {"code", "message"}}`.
public func errorBody(code: String, message: String) -> String {
    #"{"error":{"code":"\#(jsonEscaped(code))","message":"\#(jsonEscaped(message))"}}"#
}

/// `text` as the inside of a JSON string.
func jsonEscaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
