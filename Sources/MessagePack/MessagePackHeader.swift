import NIOCore

/// The head of one MessagePack value: what its type byte (and the length after it) says it is.
///
/// The one table of MessagePack's type bytes. The decoder, the reader that passes values over and
/// the transcoder to JSON text all switch on it, so they cannot disagree on where a value ends.
public enum MessagePackHeader: Equatable, Sendable {
    /// nil, a bool or a number: the whole value.
    case scalar(MessagePackValue)
    /// `byteCount` UTF-8 bytes follow (not yet validated).
    case string(byteCount: Int)
    case binary(byteCount: Int)
    /// `byteCount` bytes of data follow the type, which is read.
    case ext(type: Int8, byteCount: Int)
    /// `count` values follow.
    case array(count: Int)
    /// `count` key-value pairs follow.
    case map(count: Int)

    /// Reads one header, leaving what follows it (bytes or values) to be read. Throws for a byte
    /// that is no MessagePack and for a length beyond the bytes left (each value of a container
    /// takes at least one): a count of four billion is refused before anything is reserved for it.
    public static func read(from buffer: inout ByteBuffer) throws(MessagePackError) -> MessagePackHeader {
        guard let byte = buffer.readInteger(as: UInt8.self) else { throw .truncated }
        let header: MessagePackHeader
        switch byte {
        case 0x00...0x7F: return .scalar(.uint(UInt64(byte)))
        case 0xE0...0xFF: return .scalar(.int(Int64(Int8(bitPattern: byte))))
        case 0xC0: return .scalar(.nil)
        case 0xC2: return .scalar(.bool(false))
        case 0xC3: return .scalar(.bool(true))
        case 0xCA: return .scalar(.float(Double(Float(bitPattern: try read(UInt32.self, &buffer)))))
        case 0xCB: return .scalar(.float(Double(bitPattern: try read(UInt64.self, &buffer))))
        case 0xCC: return .scalar(.uint(UInt64(try read(UInt8.self, &buffer))))
        case 0xCD: return .scalar(.uint(UInt64(try read(UInt16.self, &buffer))))
        case 0xCE: return .scalar(.uint(UInt64(try read(UInt32.self, &buffer))))
        case 0xCF: return .scalar(.uint(try read(UInt64.self, &buffer)))
        case 0xD0: return .scalar(.int(Int64(try read(Int8.self, &buffer))))
        case 0xD1: return .scalar(.int(Int64(try read(Int16.self, &buffer))))
        case 0xD2: return .scalar(.int(Int64(try read(Int32.self, &buffer))))
        case 0xD3: return .scalar(.int(try read(Int64.self, &buffer)))
        case 0x80...0x8F: header = .map(count: Int(byte & 0x0F))
        case 0x90...0x9F: header = .array(count: Int(byte & 0x0F))
        case 0xA0...0xBF: header = .string(byteCount: Int(byte & 0x1F))
        case 0xC4: header = .binary(byteCount: Int(try read(UInt8.self, &buffer)))
        case 0xC5: header = .binary(byteCount: Int(try read(UInt16.self, &buffer)))
        case 0xC6: header = .binary(byteCount: Int(try read(UInt32.self, &buffer)))
        case 0xC7: header = try ext(byteCount: Int(try read(UInt8.self, &buffer)), &buffer)
        case 0xC8: header = try ext(byteCount: Int(try read(UInt16.self, &buffer)), &buffer)
        case 0xC9: header = try ext(byteCount: Int(try read(UInt32.self, &buffer)), &buffer)
        case 0xD4: header = try ext(byteCount: 1, &buffer)
        case 0xD5: header = try ext(byteCount: 2, &buffer)
        case 0xD6: header = try ext(byteCount: 4, &buffer)
        case 0xD7: header = try ext(byteCount: 8, &buffer)
        case 0xD8: header = try ext(byteCount: 16, &buffer)
        case 0xD9: header = .string(byteCount: Int(try read(UInt8.self, &buffer)))
        case 0xDA: header = .string(byteCount: Int(try read(UInt16.self, &buffer)))
        case 0xDB: header = .string(byteCount: Int(try read(UInt32.self, &buffer)))
        case 0xDC: header = .array(count: Int(try read(UInt16.self, &buffer)))
        case 0xDD: header = .array(count: Int(try read(UInt32.self, &buffer)))
        case 0xDE: header = .map(count: Int(try read(UInt16.self, &buffer)))
        case 0xDF: header = .map(count: Int(try read(UInt32.self, &buffer)))
        default: throw .invalidByte(byte)
        }
        guard header.leastBytesFollowing <= buffer.readableBytes else { throw .truncated }
        return header
    }

    /// The fewest bytes a value with this header still needs after it.
    private var leastBytesFollowing: Int {
        switch self {
        case .scalar: 0
        case .string(let count), .binary(let count), .ext(_, let count), .array(let count): count
        case .map(let count): 2 * count
        }
    }

    private static func ext(byteCount: Int, _ buffer: inout ByteBuffer) throws(MessagePackError) -> MessagePackHeader {
        .ext(type: try read(Int8.self, &buffer), byteCount: byteCount)
    }

    private static func read<T: FixedWidthInteger>(_ type: T.Type, _ buffer: inout ByteBuffer) throws(MessagePackError) -> T {
        guard let value = buffer.readInteger(as: T.self) else { throw .truncated }
        return value
    }
}
