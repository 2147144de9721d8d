import NIOCore

extension MessagePackValue {
    /// Writes the value with the smallest encoding of each integer and string, as notepack.io and
    /// PyPI's msgpack (`use_bin_type=True`) do.
    public func write(to buffer: inout ByteBuffer) {
        switch self {
        case .nil:
            buffer.writeInteger(UInt8(0xC0))
        case .bool(let value):
            buffer.writeInteger(value ? UInt8(0xC3) : UInt8(0xC2))
        case .int(let value):
            if value >= 0 {
                MessagePackValue.uint(UInt64(value)).write(to: &buffer)
            } else if value >= -32 {
                buffer.writeInteger(Int8(value))
            } else if value >= Int64(Int8.min) {
                buffer.writeInteger(UInt8(0xD0)); buffer.writeInteger(Int8(value))
            } else if value >= Int64(Int16.min) {
                buffer.writeInteger(UInt8(0xD1)); buffer.writeInteger(Int16(value))
            } else if value >= Int64(Int32.min) {
                buffer.writeInteger(UInt8(0xD2)); buffer.writeInteger(Int32(value))
            } else {
                buffer.writeInteger(UInt8(0xD3)); buffer.writeInteger(value)
            }
        case .uint(let value):
            if value < 0x80 {
                buffer.writeInteger(UInt8(value))
            } else if value <= UInt64(UInt8.max) {
                buffer.writeInteger(UInt8(0xCC)); buffer.writeInteger(UInt8(value))
            } else if value <= UInt64(UInt16.max) {
                buffer.writeInteger(UInt8(0xCD)); buffer.writeInteger(UInt16(value))
            } else if value <= UInt64(UInt32.max) {
                buffer.writeInteger(UInt8(0xCE)); buffer.writeInteger(UInt32(value))
            } else {
                buffer.writeInteger(UInt8(0xCF)); buffer.writeInteger(value)
            }
        case .float(let value):
            buffer.writeInteger(UInt8(0xCB))
            buffer.writeInteger(value.bitPattern)
        case .string(let value):
            let count = value.utf8.count
            if count < 32 {
                buffer.writeInteger(UInt8(0xA0) | UInt8(count))
            } else {
                writeLength(count, small: 0xD9, medium: 0xDA, large: 0xDB, to: &buffer)
            }
            buffer.writeString(value)
        case .binary(let bytes):
            writeLength(bytes.count, small: 0xC4, medium: 0xC5, large: 0xC6, to: &buffer)
            buffer.writeBytes(bytes)
        case .array(let items):
            if items.count < 16 {
                buffer.writeInteger(UInt8(0x90) | UInt8(items.count))
            } else {
                writeLength(items.count, small: nil, medium: 0xDC, large: 0xDD, to: &buffer)
            }
            for item in items { item.write(to: &buffer) }
        case .map(let entries):
            if entries.count < 16 {
                buffer.writeInteger(UInt8(0x80) | UInt8(entries.count))
            } else {
                writeLength(entries.count, small: nil, medium: 0xDE, large: 0xDF, to: &buffer)
            }
            for entry in entries {
                entry.key.write(to: &buffer)
                entry.value.write(to: &buffer)
            }
        case .ext(let type, let data):
            switch data.count {
            case 1: buffer.writeInteger(UInt8(0xD4))
            case 2: buffer.writeInteger(UInt8(0xD5))
            case 4: buffer.writeInteger(UInt8(0xD6))
            case 8: buffer.writeInteger(UInt8(0xD7))
            case 16: buffer.writeInteger(UInt8(0xD8))
            default: writeLength(data.count, small: 0xC7, medium: 0xC8, large: 0xC9, to: &buffer)
            }
            buffer.writeInteger(type)
            buffer.writeBytes(data)
        }
    }

    private func writeLength(_ count: Int, small: UInt8?, medium: UInt8, large: UInt8, to buffer: inout ByteBuffer) {
        if let small, count <= Int(UInt8.max) {
            buffer.writeInteger(small); buffer.writeInteger(UInt8(count))
        } else if count <= Int(UInt16.max) {
            buffer.writeInteger(medium); buffer.writeInteger(UInt16(count))
        } else {
            buffer.writeInteger(large); buffer.writeInteger(UInt32(count))
        }
    }

    /// The encoded bytes.
    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        write(to: &buffer)
        return buffer
    }
}
