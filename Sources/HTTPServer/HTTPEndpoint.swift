import NIOCore
import NIOHTTP1
import Vocabulary

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

/// The JSON error body of SPEC section 5: `{"error": {"code", "message"}}`, code first.
public func errorBody(code: String, message: String) -> String {
    #"{"error":{"code":\#(JSONValue.string(code).jsonString),"message":\#(JSONValue.string(message).jsonString)}}"#
}
