@testable import EngineIO
import Logging
import CoreMetrics
import NIOCore
import NIOEmbedded
import Testing
import Vocabulary

@testable import SocketIO

/// A refused CONNECT may be tried again, a few times: then the session is closed, since each try
/// is a token check on the event loop that the loop's other clients wait behind.
@Suite struct ConnectRefusalTests {
    struct RefusingNamespace: SocketIONamespace {
        func authorize(auth: JSONValue?, handshake: HandshakeRequest) -> Result<String, ConnectRefusal> {
            .failure(ConnectRefusal("invalid token"))
        }
        func sessionOwner(of grant: String) -> String { grant }
        func connect(_ socket: SocketIOSocket, grant: String, recovered: Bool) -> any SocketDelegate {
            preconditionFailure("nothing is granted")
        }
    }

    @Test func aSessionIsClosedAfterItsRefusedConnects() {
        let loop = EmbeddedEventLoop()
        let metrics = SocketIOMetrics(factory: NOOPMetricsHandler.instance)
        let server = SocketIOServer(
            namespace: RefusingNamespace(), adapter: LocalAdapter(group: loop, metrics: metrics, logger: Logger(label: "test")),
            metrics: metrics
        )
        let sink = SinkTransport()
        let engine = EngineSocket(id: "e", eventLoop: loop, handshake: .init(), configuration: .init(), transport: sink) { _ in }
        server.accept(engine)
        for attempt in 1...Int(SocketIOConnection<RefusingNamespace>.maxRefusedConnects) {
            #expect(!engine.isClosed, "closed before attempt \(attempt)")
            engine.receive(.message("0{\"token\":\"bad-\(attempt)\"}"), from: sink)
        }
        let sent = sink.packets.map { if case .message(let text) = $0 { text } else { "" } }
            + sink.frames.map { String(decoding: $0.readableBytesView, as: UTF8.self) }
        let refusals = sent.filter { $0 == "4{\"message\":\"invalid token\"}" }  // CONNECT_ERROR
        #expect(refusals.count == Int(SocketIOConnection<RefusingNamespace>.maxRefusedConnects))
        #expect(engine.isClosed)
    }
}
