/// A MessagePack value (https://github.com/msgpack/msgpack/blob/master/spec.md).
///
/// Herald speaks the subset that notepack.io, the codec of `@socket.io/redis-adapter`, writes:
/// nil, booleans, integers, float64, str, bin, arrays and maps; ext values are kept as they are.
///
/// A small Swift codec rather than Debian's libmsgpack-c by C interop: the C library hands back
/// `msgpack_object` trees in zones that would have to be walked into Swift values anyway, the
/// subset is about 200 lines, and a Swift codec lets the hot path decode a broadcast without
/// copying through C structures. Tests hold it byte for byte to PyPI's msgpack.
public enum MessagePackValue: Hashable, Sendable {
    case `nil`
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float(Double)
    case string(String)
    case binary([UInt8])
    case array([MessagePackValue])
    /// Pairs in their wire order (MessagePack maps are ordered on the wire).
    case map([MapEntry])
    case ext(type: Int8, data: [UInt8])

    public struct MapEntry: Hashable, Sendable {
        public var key: MessagePackValue
        public var value: MessagePackValue

        public init(_ key: MessagePackValue, _ value: MessagePackValue) {
            self.key = key
            self.value = value
        }
    }

    /// A map from string keys, in the given order.
    public static func map(_ pairs: KeyValuePairs<String, MessagePackValue>) -> MessagePackValue {
        .map(pairs.map { MapEntry(.string($0.key), $0.value) })
    }

    /// The value under a string key of a map.
    public subscript(key: String) -> MessagePackValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == .string(key) }?.value
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var arrayValue: [MessagePackValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// Any integer (signed or not) that fits an `Int64`.
    public var integerValue: Int64? {
        switch self {
        case .int(let value): return value
        case .uint(let value): return value <= UInt64(Int64.max) ? Int64(value) : nil
        case .float(let value): return value.rounded() == value && abs(value) < 9e15 ? Int64(value) : nil
        default: return nil
        }
    }
}
