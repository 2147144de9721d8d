import NIOCore
import Vocabulary

extension JSONValue {
    /// Where the attachment `num` of a binary packet stands in its data (socket.io-parser).
    public static func placeholder(_ num: Int) -> JSONValue {
        ["_placeholder": true, "num": .number(Double(num))]
    }

    /// What this value is to a binary packet with `count` attachments: nil when it is no
    /// placeholder (`{_placeholder: true, ...}`), else the attachment it names or `.illegal`.
    public func placeholder(among count: Int) -> Placeholder? {
        guard case .object(let members) = self, members["_placeholder"] == .bool(true) else { return nil }
        guard case .number(let num)? = members["num"], let index = Int(exactly: num), (0..<count).contains(index)
        else { return .illegal }
        return .attachment(index)
    }

    /// A placeholder of a binary packet: the attachment it stands for, or none that exists.
    public enum Placeholder: Equatable {
        case attachment(Int)
        case illegal
    }
}

extension SocketIOPacket {
    /// The packet, if every placeholder of a binary packet names one of its attachments; the
    /// Node decoder refuses the others ("illegal attachments").
    func checkingPlaceholders() throws(SocketIOProtocolError) -> SocketIOPacket {
        guard kind == .binaryEvent || kind == .binaryAck, let data else { return self }
        guard Self.placeholdersAreValid(data, attachments: attachments.count) else { throw .invalidPlaceholder }
        return self
    }

    private static func placeholdersAreValid(_ value: JSONValue, attachments: Int) -> Bool {
        switch value.placeholder(among: attachments) {
        case .attachment: return true
        case .illegal: return false
        case nil: break
        }
        switch value {
        case .array(let items): return items.allSatisfy { placeholdersAreValid($0, attachments: attachments) }
        case .object(let members): return members.values.allSatisfy { placeholdersAreValid($0, attachments: attachments) }
        default: return true
        }
    }
}
