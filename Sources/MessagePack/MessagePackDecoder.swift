import NIOCore
import Vocabulary

/// Why bytes are not the MessagePack this codec reads.
public enum MessagePackError: Error, Equatable, Sendable {
    case truncated
    case invalidByte(UInt8)
    case invalidUTF8
    case tooDeep
    case trailingBytes
}

extension MessagePackValue {
    /// Decodes exactly one value filling `buffer`.
    public init(decoding buffer: ByteBuffer) throws(MessagePackError) {
        var reader = buffer
        self = try Self.read(from: &reader, depth: 0)
        guard reader.readableBytes == 0 else { throw .trailingBytes }
    }

    /// Nesting this deep is no Socket.IO packet; refusing it keeps hostile input from the stack.
    public static let maxDepth = 64

    static func read(from buffer: inout ByteBuffer, depth: Int) throws(MessagePackError) -> MessagePackValue {
        guard depth < maxDepth else { throw .tooDeep }
        switch try MessagePackHeader.read(from: &buffer) {
        case .scalar(let value): return value
        case .string(let count): return try readString(count: count, from: &buffer)
        case .binary(let count): return .binary(try readBytes(count: count, from: &buffer))
        case .ext(let type, let count): return .ext(type: type, data: try readBytes(count: count, from: &buffer))
        case .array(let count):
            var items: [MessagePackValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try read(from: &buffer, depth: depth + 1)) }
            return .array(items)
        case .map(let count):
            var entries: [MapEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let key = try read(from: &buffer, depth: depth + 1)
                entries.append(MapEntry(key, try read(from: &buffer, depth: depth + 1)))
            }
            return .map(entries)
        }
    }

    private static func readBytes(count: Int, from buffer: inout ByteBuffer) throws(MessagePackError) -> [UInt8] {
        guard let bytes = buffer.readBytes(length: count) else { throw .truncated }
        return bytes
    }

    private static func readString(count: Int, from buffer: inout ByteBuffer) throws(MessagePackError) -> MessagePackValue {
        guard let slice = buffer.readSlice(length: count) else { throw .truncated }
        // Validated, not repaired: a truncated 4-byte sequence repairs to U+FFFD, which is 3 bytes
        // too, so comparing lengths let it through (found by fuzz/FuzzMessagePack).
        guard let text = slice.withUnsafeReadableBytes(String.init(validatingUTF8Bytes:)) else { throw .invalidUTF8 }
        return .string(text)
    }
}
