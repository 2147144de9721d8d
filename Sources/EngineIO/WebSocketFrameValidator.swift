import NIOCore
import NIOWebSocket
import Vocabulary

/// The frames RFC 6455 says a server MUST NOT accept, found before anything reads them.
///
/// NIO's decoder checks lengths and control-frame fragmentation; the rest is left to the
/// application: frames from a client must be masked (section 5.1), the reserved bits must be
/// clear when no extension was negotiated (5.2), reserved opcodes are an error (5.2), and a close
/// frame carries nothing or a valid code and UTF-8 reason (5.5.1, 7.4). Each is answered with a
/// close frame (1002, or 1007 for a reason that is not UTF-8), then the connection closes; no
/// frame of that connection is read after it. `EngineWebSocketHandler` asks before it unmasks
/// and merges fragments, so every frame is judged as the client sent it.
enum WebSocketFrameValidator {
    /// The close code a frame earns, or nil when it may pass.
    static func refusal(of frame: WebSocketFrame) -> WebSocketErrorCode? {
        guard frame.maskKey != nil, !frame.rsv1, !frame.rsv2, !frame.rsv3 else { return .protocolError }
        switch frame.opcode {
        case .continuation, .text, .binary, .ping, .pong:
            return nil
        case .connectionClose:
            return closeRefusal(frame.unmaskedData)
        default:
            return .protocolError
        }
    }

    /// A close frame's body is empty, or a code of 2 bytes and a UTF-8 reason (RFC 6455 5.5.1).
    private static func closeRefusal(_ body: ByteBuffer) -> WebSocketErrorCode? {
        var body = body
        guard body.readableBytes > 0 else { return nil }
        guard let code = body.readInteger(as: UInt16.self), isValidCloseCode(code) else { return .protocolError }
        guard body.withUnsafeReadableBytes(String.init(validatingUTF8Bytes:)) != nil else { return .dataInconsistentWithMessage }
        return nil
    }

    /// The codes a peer may send (RFC 6455 7.4 and the IANA registry): 1004 to 1006 and 1015 are
    /// reserved, never sent; 3000 to 4999 belong to libraries and applications.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
