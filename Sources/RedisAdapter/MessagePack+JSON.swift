import MessagePack
import SocketIO

extension MessagePackValue {
    /// JSON values as notepack.io writes JavaScript values: whole numbers as integers, other
    /// numbers as float64, object keys in sorted order (for a stable encoding).
    init(_ json: JSONValue) {
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
        case .array(let items): self = .array(items.map(MessagePackValue.init))
        case .object(let members):
            self = .map(members.sorted { $0.key < $1.key }.map { MapEntry(.string($0.key), MessagePackValue($0.value)) })
        }
    }

    /// The JSON value a Socket.IO server would send for this MessagePack value; nil for binary
    /// data, which Herald does not relay (see docs/redis-protocol.md).
    var json: JSONValue? {
        switch self {
        case .nil: return .null
        case .bool(let value): return .bool(value)
        case .int(let value): return .number(Double(value))
        case .uint(let value): return .number(Double(value))
        case .float(let value): return .number(value)
        case .string(let value): return .string(value)
        case .binary: return nil
        case .array(let items):
            var converted: [JSONValue] = []
            converted.reserveCapacity(items.count)
            for item in items {
                guard let value = item.json else { return nil }
                converted.append(value)
            }
            return .array(converted)
        case .map(let entries):
            var members: [String: JSONValue] = [:]
            for entry in entries {
                guard let value = entry.value.json else { return nil }
                // notepack writes `undefined` members as ext 0; JSON.stringify drops them.
                if case .ext(0, _) = entry.value { continue }
                members[entry.key.stringValue ?? entry.key.json?.jsonString ?? ""] = value
            }
            return .object(members)
        case .ext(let type, _):
            // notepack's `undefined` (fixext 1, type 0) becomes null, as JSON.stringify makes it in arrays.
            return type == 0 ? .null : nil
        }
    }
}
