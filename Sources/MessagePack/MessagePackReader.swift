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

    /// The element count when the next value is an array; nil, with nothing read, when it is
    /// another value. Throws when the next bytes are no MessagePack.
    public mutating func readArrayHeader() throws(MessagePackError) -> Int? {
        var next = buffer
        guard case .array(let count) = try MessagePackHeader.read(from: &next) else { return nil }
        buffer = next
        return count
    }

    /// The entry count when the next value is a map; nil, with nothing read, when it is another
    /// value. Throws when the next bytes are no MessagePack.
    public mutating func readMapHeader() throws(MessagePackError) -> Int? {
        var next = buffer
        guard case .map(let count) = try MessagePackHeader.read(from: &next) else { return nil }
        buffer = next
        return count
    }

    /// The next value's header (`MessagePackHeader`), its body left to read.
    public mutating func readHeader() throws(MessagePackError) -> MessagePackHeader {
        try MessagePackHeader.read(from: &buffer)
    }

    /// The next `count` bytes: a string's, a `bin`'s or an ext's body after its header.
    public mutating func readBody(count: Int) throws(MessagePackError) -> ByteBuffer {
        guard let body = buffer.readSlice(length: count) else { throw .truncated }
        return body
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
        switch try MessagePackHeader.read(from: &buffer) {
        case .scalar: return
        case .string(let count), .binary(let count), .ext(_, let count): buffer.moveReaderIndex(forwardBy: count)
        case .array(let count): for _ in 0..<count { try skip(depth: depth + 1) }
        case .map(let count): for _ in 0..<2 * count { try skip(depth: depth + 1) }
        }
    }
}
