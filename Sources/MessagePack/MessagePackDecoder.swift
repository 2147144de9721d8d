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
    static let maxDepth = 64

    static func read(from buffer: inout ByteBuffer, depth: Int) throws(MessagePackError) -> MessagePackValue {
        guard depth < maxDepth else { throw .tooDeep }
        guard let byte = buffer.readInteger(as: UInt8.self) else { throw .truncated }
        switch byte {
        case 0x00...0x7F: return .uint(UInt64(byte))
        case 0x80...0x8F: return try readMap(count: Int(byte & 0x0F), from: &buffer, depth: depth)
        case 0x90...0x9F: return try readArray(count: Int(byte & 0x0F), from: &buffer, depth: depth)
        case 0xA0...0xBF: return try readString(count: Int(byte & 0x1F), from: &buffer)
        case 0xC0: return .nil
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xC4: return .binary(try readBytes(count: Int(try read(UInt8.self, &buffer)), from: &buffer))
        case 0xC5: return .binary(try readBytes(count: Int(try read(UInt16.self, &buffer)), from: &buffer))
        case 0xC6: return .binary(try readBytes(count: Int(try read(UInt32.self, &buffer)), from: &buffer))
        case 0xC7: return try readExt(count: Int(try read(UInt8.self, &buffer)), from: &buffer)
        case 0xC8: return try readExt(count: Int(try read(UInt16.self, &buffer)), from: &buffer)
        case 0xC9: return try readExt(count: Int(try read(UInt32.self, &buffer)), from: &buffer)
        case 0xCA: return .float(Double(Float(bitPattern: try read(UInt32.self, &buffer))))
        case 0xCB: return .float(Double(bitPattern: try read(UInt64.self, &buffer)))
        case 0xCC: return .uint(UInt64(try read(UInt8.self, &buffer)))
        case 0xCD: return .uint(UInt64(try read(UInt16.self, &buffer)))
        case 0xCE: return .uint(UInt64(try read(UInt32.self, &buffer)))
        case 0xCF: return .uint(try read(UInt64.self, &buffer))
        case 0xD0: return .int(Int64(try read(Int8.self, &buffer)))
        case 0xD1: return .int(Int64(try read(Int16.self, &buffer)))
        case 0xD2: return .int(Int64(try read(Int32.self, &buffer)))
        case 0xD3: return .int(try read(Int64.self, &buffer))
        case 0xD4: return try readExt(count: 1, from: &buffer)
        case 0xD5: return try readExt(count: 2, from: &buffer)
        case 0xD6: return try readExt(count: 4, from: &buffer)
        case 0xD7: return try readExt(count: 8, from: &buffer)
        case 0xD8: return try readExt(count: 16, from: &buffer)
        case 0xD9: return try readString(count: Int(try read(UInt8.self, &buffer)), from: &buffer)
        case 0xDA: return try readString(count: Int(try read(UInt16.self, &buffer)), from: &buffer)
        case 0xDB: return try readString(count: Int(try read(UInt32.self, &buffer)), from: &buffer)
        case 0xDC: return try readArray(count: Int(try read(UInt16.self, &buffer)), from: &buffer, depth: depth)
        case 0xDD: return try readArray(count: Int(try read(UInt32.self, &buffer)), from: &buffer, depth: depth)
        case 0xDE: return try readMap(count: Int(try read(UInt16.self, &buffer)), from: &buffer, depth: depth)
        case 0xDF: return try readMap(count: Int(try read(UInt32.self, &buffer)), from: &buffer, depth: depth)
        case 0xE0...0xFF: return .int(Int64(Int8(bitPattern: byte)))
        default: throw .invalidByte(byte)
        }
    }

    private static func read<T: FixedWidthInteger>(_ type: T.Type, _ buffer: inout ByteBuffer) throws(MessagePackError) -> T {
        guard let value = buffer.readInteger(as: T.self) else { throw .truncated }
        return value
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

    private static func readExt(count: Int, from buffer: inout ByteBuffer) throws(MessagePackError) -> MessagePackValue {
        let type = try read(Int8.self, &buffer)
        return .ext(type: type, data: try readBytes(count: count, from: &buffer))
    }

    private static func readArray(count: Int, from buffer: inout ByteBuffer, depth: Int) throws(MessagePackError) -> MessagePackValue {
        // Each element takes at least a byte: a count beyond what is left is a lie.
        guard count <= buffer.readableBytes else { throw .truncated }
        var items: [MessagePackValue] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try read(from: &buffer, depth: depth + 1)) }
        return .array(items)
    }

    private static func readMap(count: Int, from buffer: inout ByteBuffer, depth: Int) throws(MessagePackError) -> MessagePackValue {
        guard count * 2 <= buffer.readableBytes else { throw .truncated }
        var entries: [MapEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = try read(from: &buffer, depth: depth + 1)
            entries.append(MapEntry(key, try read(from: &buffer, depth: depth + 1)))
        }
        return .map(entries)
    }
}
