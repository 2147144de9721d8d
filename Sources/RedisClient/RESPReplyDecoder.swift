import CHiredis
import NIOCore

/// Bytes from Redis in, `RESPValue`s out, parsed by hiredis' reader.
///
/// The reader is not thread-safe; this handler lives on its channel's event loop, which is the
/// only place the reader is touched, so it needs no lock. Each C reply is converted and freed at
/// once: no C pointer leaves this type.
final class RESPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        guard let reader = redisReaderCreate() else { fatalError("hiredis: out of memory creating a reader") }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if buffer.readableBytes > 0 {
            let fed = buffer.withUnsafeReadableBytes { bytes in
                redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
            }
            buffer.moveReaderIndex(to: buffer.writerIndex)
            guard fed == REDIS_OK else { throw RESPProtocolError(reader: reader) }
        }
        while let value = try nextReply() {
            context.fireChannelRead(wrapInboundOut(value))
        }
        return .needMoreData
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// The next complete reply, or nil when hiredis needs more bytes.
    func nextReply() throws -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw RESPProtocolError(reader: reader) }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RESPValue(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Feeds bytes without a channel (for tests of partial reads).
    func feed(_ bytes: [UInt8]) throws {
        let fed = bytes.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
        }
        guard fed == REDIS_OK else { throw RESPProtocolError(reader: reader) }
    }
}

extension RESPValue {
    /// Converts hiredis' reply tree.
    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            self = .bulkString(ByteBuffer(bytes: UnsafeRawBufferPointer(start: value.str, count: Int(value.len))))
        case REDIS_REPLY_STATUS:
            self = .simpleString(String(decoding: UnsafeRawBufferPointer(start: value.str, count: Int(value.len)), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: UnsafeRawBufferPointer(start: value.str, count: Int(value.len)), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RESPValue] = []
            items.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { items.append(RESPValue(element)) }
            }
            self = .array(items)
        case REDIS_REPLY_NIL:
            self = .bulkString(nil)
        default:
            self = .error("unsupported reply type \(value.type)")
        }
    }
}

/// Bytes that are not RESP: the connection is closed.
struct RESPProtocolError: Error, CustomStringConvertible {
    let description: String

    init(reader: UnsafeMutablePointer<redisReader>) {
        description = withUnsafeBytes(of: reader.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
