import SocketIO
import Testing
import Vocabulary

@testable import Gateway

@Suite struct GatewayErrorTests {
    @Test func errorBodies() {
        let error = GatewayError(.tooManyRooms, "limit")
        #expect(error.body == ["code": "too_many_rooms", "message": "limit"])
        #expect(error.ackBody == ["ok": false, "error": ["code": "too_many_rooms", "message": "limit"]])
    }
}
