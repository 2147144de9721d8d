import CHiredis
import NIOCore

/// A Redis command: its arguments, binary-safe.
public struct RedisCommand: Sendable {
    public var arguments: [ByteBuffer]

    public init(_ arguments: [ByteBuffer]) {
        self.arguments = arguments
    }

    public init(_ name: String, _ arguments: String...) {
        self.arguments = ([name] + arguments).map { ByteBuffer(string: $0) }
    }

    /// Formats the command with hiredis' `redisFormatCommandArgv` (explicit lengths, so any bytes
    /// pass); false when hiredis could not (out of memory), and nothing was written.
    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Bool {
        var formatted = false
        // One contiguous copy of the arguments, so that argv can point into it.
        var storage: [UInt8] = []
        storage.reserveCapacity(arguments.reduce(0) { $0 + $1.readableBytes })
        var offsets: [Int] = []
        for argument in arguments {
            offsets.append(storage.count)
            storage.append(contentsOf: argument.readableBytesView)
        }
        let lengths = arguments.map(\.readableBytes)
        storage.withUnsafeBufferPointer { base in
            base.withMemoryRebound(to: CChar.self) { chars in
                var argv: [UnsafePointer<CChar>?] = offsets.map { chars.baseAddress.map { UnsafePointer($0 + 0) }?.advanced(by: $0) }
                var target: UnsafeMutablePointer<CChar>?
                let length = argv.withUnsafeMutableBufferPointer { argvPointer in
                    lengths.withUnsafeBufferPointer { lengthPointer in
                        redisFormatCommandArgv(&target, Int32(arguments.count), argvPointer.baseAddress, lengthPointer.baseAddress)
                    }
                }
                guard length > 0, let target else { return }
                buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
                redisFreeCommand(target)
                formatted = true
                _ = argv.count
            }
        }
        return formatted
    }
}

/// Commands out as RESP bytes.
final class RESPCommandEncoder: MessageToByteEncoder {
    typealias OutboundIn = RedisCommand

    /// A command hiredis could not format fails its write, and so its reply's promise: no reply
    /// would ever come for it.
    func encode(data: RedisCommand, out: inout ByteBuffer) throws {
        guard data.write(to: &out) else { throw RedisError("hiredis could not format the command") }
    }
}
