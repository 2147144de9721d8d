import Hummingbird
import NIOConcurrencyHelpers

/// Collects a hummingbird response body into one buffer, for the NIO listener to write.
struct BodyCollector {
    let buffer = NIOLockedValueBox(ByteBuffer())

    var writer: Writer { Writer(buffer: buffer) }

    struct Writer: ResponseBodyWriter {
        let buffer: NIOLockedValueBox<ByteBuffer>

        mutating func write(_ part: ByteBuffer) async throws {
            buffer.withLockedValue { _ = $0.writeImmutableBuffer(part) }
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
