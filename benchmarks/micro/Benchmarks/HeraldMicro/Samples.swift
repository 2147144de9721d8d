import NIOCore
import RedisAdapter
import SocketIO
import Vocabulary

/// The payloads of one points event, as they travel between Herald's parts.
enum Samples {
    /// A `points_added` payload with the fields of SPEC section 4.
    static let pointsAdded: JSONValue = [
        "transactionId": "tx_01JD3K7W8M2N4P6R8T0V2X4Z", "guestId": "g1", "cardId": "card_7f3a9c",
        "amount": 10, "newBalance": 250, "restaurantId": "r1", "restaurantName": "Chez Herald",
        "description": "Dinner for two", "timestamp": 1_764_115_200_000, "eventId": "e1",
    ]

    static let rooms: Set<String> = ["guest:g1", "restaurant:r1"]

    /// The EVENT packet a gateway sends for it.
    static let event = SocketIOPacket.event("points_added", [pointsAdded])

    /// Its Socket.IO text: `42["points_added",{...}]`.
    static let eventText = event.encoded

    /// The MessagePack broadcast the points API's emitter publishes and every gateway decodes.
    static let redisBroadcast = RedisBroadcast(
        uid: RedisBroadcast.emitterUID, packet: event, options: BroadcastOptions(rooms: rooms)
    ).encoded(asEmitter: true)
}
