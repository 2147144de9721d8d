import HTTPServer
import Hummingbird
import Logging
import PointsLedger

/// An API refusal: status, code and message, rendered as SPEC section 5's `{"error": {code, message}}`.
///
/// Hummingbird's `HTTPError` renders a message only, hence this type.
public struct APIError: Error, HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }

    var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: errorBody(code: code, message: message))))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static let unauthorized = APIError(.unauthorized, "unauthorized", "a valid Bearer token is required")
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }
    static let notFound = APIError(.notFound, "not_found", "not found")

    /// The one place a ledger refusal becomes an HTTP answer.
    init(_ error: LedgerError) {
        switch error {
        case .insufficientPoints(let balance):
            self.init(.conflict, "insufficient_points", "the balance is \(balance)")
        case .cardExists:
            self.init(.conflict, "card_exists", "the guest already has a card at this restaurant")
        case .notFound:
            self.init(.notFound, "not_found", "no such guest")
        case .idempotencyKeyReused:
            self.init(.unprocessableContent, "idempotency_key_reused", "this Idempotency-Key was used with another request")
        }
    }
}

/// Turns every failure into the SPEC's JSON error body; unknown paths and methods included.
/// A 500 (generic body, one log line) is a bug.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as LedgerError {
            return APIError(error).response
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: return APIError(.notFound, "not_found", "no such endpoint").response
            case .methodNotAllowed: return APIError(.methodNotAllowed, "method_not_allowed", "method not allowed").response
            case .contentTooLarge: return APIError(.contentTooLarge, "payload_too_large", "request body too large").response
            default: return APIError(error.status, "bad_request", error.body ?? error.status.reasonPhrase).response
            }
        } catch {
            context.logger.error("[API] \(request.method) \(request.uri.path) failed: \(String(reflecting: error))")
            return APIError(.internalServerError, "internal", "internal error").response
        }
    }
}
