import MessagePack
import NIOCore
import SocketIO
import Vocabulary

/// The Socket.IO text of an EVENT whose data came from Redis as MessagePack, written straight
/// from the MessagePack bytes to the JSON text the clients get.
///
/// Converted through values (`MessagePackValue`, then `JSONValue`, then its text), a targeted
/// broadcast built two trees and three strings for one frame: about a sixth of the CPU of a
/// gateway delivering 5,000 a second (perf). The text is the one that path writes (the same
/// numbers, escapes, `undefined`s and refusals), but for objects, whose members keep the
/// publisher's order (and a key given twice is written twice; JSON.parse keeps the last, as
/// the values did). Data holding a `bin` is a binary event: that one goes through the values,
/// which number its attachments; so does anything refused here, and the values decide.
enum EventText {
    /// `2[<data items>,"<offset>"]` (after `/<namespace>,` outside the main one); nil when the
    /// data is not an array opening with a string, holds a `bin`, or is not what `broadcast()`
    /// takes.
    static func encode(data: ByteBuffer, namespace: String, offset: RecoveryOffset?) -> ByteBuffer? {
        var writer = Writer(reader: MessagePackReader(data))
        writer.out.reserveCapacity(data.readableBytes + 32)
        writer.out.append(UInt8(ascii: "2"))
        if namespace != "/" {
            writer.out.append(contentsOf: namespace.utf8)
            writer.out.append(UInt8(ascii: ","))
        }
        do {
            guard case .array(let count) = try writer.reader.readHeader(), count >= 1 else { return nil }
            writer.out.append(UInt8(ascii: "["))
            // The event's name.
            guard case .string(let byteCount) = try writer.reader.readHeader() else { return nil }
            try writer.string(byteCount: byteCount)
            for _ in 1..<count {
                writer.out.append(UInt8(ascii: ","))
                try writer.value(depth: 1)
            }
            if let offset {
                writer.out.append(UInt8(ascii: ","))
                JSONValue.writeString(utf8: offset.description.utf8, to: &writer.out)
            }
            writer.out.append(UInt8(ascii: "]"))
            guard writer.reader.isAtEnd else { return nil }
        } catch {
            return nil
        }
        return ByteBuffer(bytes: writer.out)
    }

    /// Why a value is not written here (a `bin`, or what no JSON can carry).
    private struct NotHere: Error {}

    private struct Writer {
        var reader: MessagePackReader
        var out: [UInt8] = []

        mutating func value(depth: Int) throws {
            guard depth < MessagePackValue.maxDepth else { throw NotHere() }
            switch try reader.readHeader() {
            case .scalar(let value): scalar(value)
            case .string(let byteCount): try string(byteCount: byteCount)
            case .binary: throw NotHere()
            case .ext(let type, let byteCount):
                // notepack's `undefined` (fixext 1, type 0) is null in an array, as JSON.stringify makes it.
                guard type == 0 else { throw NotHere() }
                _ = try reader.readBody(count: byteCount)
                out.append(contentsOf: "null".utf8)
            case .array(let count):
                out.append(UInt8(ascii: "["))
                for index in 0..<count {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    try value(depth: depth + 1)
                }
                out.append(UInt8(ascii: "]"))
            case .map(let count):
                out.append(UInt8(ascii: "{"))
                var first = true
                for _ in 0..<count {
                    let key = try self.key(depth: depth + 1)
                    // An `undefined` member is left out, as JSON.stringify leaves it out.
                    var next = reader
                    if case .ext(0, let byteCount) = try next.readHeader() {
                        _ = try next.readBody(count: byteCount)
                        reader = next
                        continue
                    }
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    JSONValue.writeString(utf8: key.readableBytesView, to: &out)
                    out.append(UInt8(ascii: ":"))
                    try value(depth: depth + 1)
                }
                out.append(UInt8(ascii: "}"))
            }
        }

        private mutating func scalar(_ value: MessagePackValue) {
            switch value {
            case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
            case .int(let number): out.append(contentsOf: JSONValue.numberText(Double(number)).utf8)
            case .uint(let number): out.append(contentsOf: JSONValue.numberText(Double(number)).utf8)
            case .float(let number): out.append(contentsOf: JSONValue.numberText(number).utf8)
            default: out.append(contentsOf: "null".utf8)
            }
        }

        mutating func string(byteCount: Int) throws {
            let body = try reader.readBody(count: byteCount)
            try Self.validate(body)
            JSONValue.writeString(utf8: body.readableBytesView, to: &out)
        }

        /// A member's name as the values name it: a string is itself, a whole number its digits,
        /// anything else the empty string (read whole, so that its bytes are checked as there).
        private mutating func key(depth: Int) throws -> ByteBuffer {
            guard depth < MessagePackValue.maxDepth else { throw NotHere() }
            var next = reader
            if case .string(let byteCount) = try next.readHeader() {
                reader = next
                let body = try reader.readBody(count: byteCount)
                try Self.validate(body)
                return body
            }
            let key = try reader.read(depth: depth)
            return ByteBuffer(string: key.integerValue.map { String($0) } ?? "")
        }

        private static func validate(_ bytes: ByteBuffer) throws {
            guard bytes.withUnsafeReadableBytes(\.isValidUTF8) else { throw NotHere() }
        }
    }
}
