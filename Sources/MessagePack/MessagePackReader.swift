import NIOCore

/// Reads MessagePack a part at a time: the header of an array or a map, a whole value, or a value
/// passed over as its bytes, to be decoded later or never.
///
/// A gateway hears every broadcast in the cluster and delivers few of them: it reads a message's
/// addressing and passes over its data, which it decodes only for a socket of its own (building
/// the data's values was a third of reading a broadcast that reached nobody here, perf).
public struct MessagePackReader {
    private var buffer: ByteBuffer

    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    /// Everything has been read.
    public var isAtEnd: Bool { buffer.readableBytes == 0 }

    /// The element count when the next value is an array; nil, with nothing read, otherwise.
    public mutating func readArrayHeader() throws(MessagePackError) -> Int? {
        try readHeader(fixed: 0x90, sixteen: 0xDC, thirtyTwo: 0xDD, valuesPerItem: 1)
    }

    /// The entry count when the next value is a map; nil, with nothing read, otherwise.
    public mutating func readMapHeader() throws(MessagePackError) -> Int? {
        try readHeader(fixed: 0x80, sixteen: 0xDE, thirtyTwo: 0xDF, valuesPerItem: 2)
    }

    /// A container's count, from its fix form (`fixed` plus 0-15) or its 16- or 32-bit form.
    private mutating func readHeader(
        fixed: UInt8, sixteen: UInt8, thirtyTwo: UInt8, valuesPerItem: Int
    ) throws(MessagePackError) -> Int? {
        guard let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { throw .truncated }
        let count: Int
        switch byte {
        case fixed...(fixed | 0x0F): count = Int(byte & 0x0F); buffer.moveReaderIndex(forwardBy: 1)
        case sixteen: buffer.moveReaderIndex(forwardBy: 1); count = Int(try read(UInt16.self))
        case thirtyTwo: buffer.moveReaderIndex(forwardBy: 1); count = Int(try read(UInt32.self))
        default: return nil
        }
        // Each value takes at least a byte: a count beyond what is left is a lie.
        guard count * valuesPerItem <= buffer.readableBytes else { throw .truncated }
        return count
    }

    /// The next value, whole. `depth` is how deep in the message it stands (for the bound).
    public mutating func read(depth: Int = 1) throws(MessagePackError) -> MessagePackValue {
        try MessagePackValue.read(from: &buffer, depth: depth)
    }

    /// The next value's bytes, passed over. Its framing is checked as `read` checks it (lengths
    /// and nesting); what `read` checks inside a string (UTF-8) only when the bytes are decoded.
    public mutating func readRaw(depth: Int = 1) throws(MessagePackError) -> ByteBuffer {
        var value = buffer
        try skip(depth: depth)
        // What was just passed over is readable in the copy made before, so the slice exists.
        return value.readSlice(length: buffer.readerIndex - value.readerIndex) ?? ByteBuffer()
    }

    private mutating func skip(depth: Int) throws(MessagePackError) {
        guard depth < MessagePackValue.maxDepth else { throw .tooDeep }
        guard let byte = buffer.readInteger(as: UInt8.self) else { throw .truncated }
        var bytes = 0
        var values = 0
        switch byte {
        case 0x00...0x7F, 0xC0, 0xC2, 0xC3, 0xE0...0xFF: return
        case 0x80...0x8F: values = 2 * Int(byte & 0x0F)
        case 0x90...0x9F: values = Int(byte & 0x0F)
        case 0xA0...0xBF: bytes = Int(byte & 0x1F)
        case 0xC4, 0xD9: bytes = Int(try read(UInt8.self))
        case 0xC5, 0xDA: bytes = Int(try read(UInt16.self))
        case 0xC6, 0xDB: bytes = Int(try read(UInt32.self))
        case 0xC7: bytes = Int(try read(UInt8.self)) + 1
        case 0xC8: bytes = Int(try read(UInt16.self)) + 1
        case 0xC9: bytes = Int(try read(UInt32.self)) + 1
        case 0xCC, 0xD0: bytes = 1
        case 0xCD, 0xD1: bytes = 2
        case 0xCA, 0xCE, 0xD2: bytes = 4
        case 0xCB, 0xCF, 0xD3: bytes = 8
        case 0xD4: bytes = 2
        case 0xD5: bytes = 3
        case 0xD6: bytes = 5
        case 0xD7: bytes = 9
        case 0xD8: bytes = 17
        case 0xDC: values = Int(try read(UInt16.self))
        case 0xDD: values = Int(try read(UInt32.self))
        case 0xDE: values = 2 * Int(try read(UInt16.self))
        case 0xDF: values = 2 * Int(try read(UInt32.self))
        default: throw .invalidByte(byte)
        }
        guard bytes <= buffer.readableBytes, values <= buffer.readableBytes else { throw .truncated }
        buffer.moveReaderIndex(forwardBy: bytes)
        for _ in 0..<values { try skip(depth: depth + 1) }
    }

    private mutating func read<T: FixedWidthInteger>(_ type: T.Type) throws(MessagePackError) -> T {
        guard let value = buffer.readInteger(as: T.self) else { throw .truncated }
        return value
    }
}
