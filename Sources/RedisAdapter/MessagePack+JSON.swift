import MessagePack
import NIOCore
import SocketIO
import Vocabulary

extension MessagePackValue {
    /// JSON values as notepack.io writes JavaScript values: whole numbers as integers, other
    /// numbers as float64, object keys in sorted order (for a stable encoding). A placeholder of
    /// a binary packet becomes the `bin` of its attachment, as a Node server publishes a `Buffer`.
    init(_ json: JSONValue, attachments: [ByteBuffer] = []) {
        if !attachments.isEmpty, case .attachment(let index)? = json.placeholder(among: attachments.count) {
            self = .binary(Array(attachments[index].readableBytesView))
            return
        }
        switch json {
        case .null: self = .nil
        case .bool(let value): self = .bool(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 9e15 {
                self = value >= 0 ? .uint(UInt64(value)) : .int(Int64(value))
            } else {
                self = .float(value)
            }
        case .string(let value): self = .string(value)
        case .array(let items): self = .array(items.map { MessagePackValue($0, attachments: attachments) })
        case .object(let members):
            self = .map(members.sorted { $0.key < $1.key }.map {
                MapEntry(.string($0.key), MessagePackValue($0.value, attachments: attachments))
            })
        }
    }

    /// The JSON value a Socket.IO server would send for this MessagePack value: each `bin` (a
    /// Node `Buffer`) becomes a placeholder and its bytes the next attachment, in the order
    /// socket.io-parser's `deconstructPacket` numbers them (depth first, in wire order).
    /// Nil for what JSON cannot carry (ext types other than notepack's `undefined`).
    func json(attachments: inout [ByteBuffer]) -> JSONValue? {
        switch self {
        case .nil: return .null
        case .bool(let value): return .bool(value)
        case .int(let value): return .number(Double(value))
        case .uint(let value): return .number(Double(value))
        case .float(let value): return .number(value)
        case .string(let value): return .string(value)
        case .binary(let bytes):
            attachments.append(ByteBuffer(bytes: bytes))
            return .placeholder(attachments.count - 1)
        case .array(let items):
            var converted: [JSONValue] = []
            converted.reserveCapacity(items.count)
            for item in items {
                guard let value = item.json(attachments: &attachments) else { return nil }
                converted.append(value)
            }
            return .array(converted)
        case .map(let entries):
            var members: [String: JSONValue] = [:]
            for entry in entries {
                // notepack writes `undefined` members as ext 0; JSON.stringify drops them.
                if case .ext(0, _) = entry.value { continue }
                guard let value = entry.value.json(attachments: &attachments) else { return nil }
                members[entry.key.stringValue ?? entry.key.integerValue.map { String($0) } ?? ""] = value
            }
            return .object(members)
        case .ext(let type, _):
            // notepack's `undefined` (fixext 1, type 0) becomes null, as JSON.stringify makes it in arrays.
            return type == 0 ? .null : nil
        }
    }
}
