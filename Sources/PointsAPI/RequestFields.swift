import HeraldAuth
import NIOCore
import SocketIO
import Vocabulary

/// Reads a JSON request body field by field, with a 400 that names the field at fault.
struct RequestFields {
    private let object: [String: JSONValue]

    init(body: ByteBuffer) throws(APIError) {
        guard let value = JSONValue(parsing: String(buffer: body)) else { throw .badRequest("the body is not JSON") }
        guard case .object(let object) = value else { throw .badRequest("the body must be a JSON object") }
        self.object = object
    }

    /// The field if it is a string, without judging it (for checks that come before validation).
    func rawString(_ name: String) -> String? {
        object[name]?.stringValue
    }

    func string(_ name: String) throws(APIError) -> String {
        guard let value = object[name], value != .null else { throw .badRequest("\(name) is required") }
        guard let text = value.stringValue else { throw .badRequest("\(name) must be a string") }
        return text
    }

    /// A guest or restaurant id: the channel id grammar of SPEC section 3.
    func id(_ name: String) throws(APIError) -> String {
        let text = try string(name)
        guard ChannelName.isValidID(text) else {
            throw .badRequest("\(name) must be 1 to 128 characters from A-Z a-z 0-9 _ . @ -")
        }
        return text
    }

    /// A string of `range` characters; `defaultValue` when absent.
    func text(_ name: String, length range: ClosedRange<Int>, default defaultValue: String? = nil) throws(APIError) -> String {
        if let defaultValue, object[name] == nil || object[name] == .null { return defaultValue }
        let text = try string(name)
        // Counted in Unicode code points, as JSON Schema counts `maxLength` (the OpenAPI document).
        guard range.contains(text.unicodeScalars.count) else {
            throw .badRequest("\(name) must be \(range.lowerBound) to \(range.upperBound) characters")
        }
        return text
    }

    /// A whole number of points, 1 to 1,000,000 (SPEC 5.1).
    func amount(_ name: String = "amount") throws(APIError) -> Int64 {
        guard let value = object[name], value != .null else { throw .badRequest("\(name) is required") }
        guard case .number(let number) = value else { throw .badRequest("\(name) must be a number") }
        guard number.rounded() == number, number >= 1, number <= 1_000_000 else {
            throw .badRequest("\(name) must be a whole number from 1 to 1000000")
        }
        return Int64(number)
    }
}
