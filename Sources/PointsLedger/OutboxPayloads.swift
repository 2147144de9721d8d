import Vocabulary

/// An outbox row about to be written, as text columns.
struct OutboxRow {
    var eventId: String
    var event: String
    var roomList: [String]
    var payload: JSONValue

    /// The `rooms` column: a JSON array of strings.
    var rooms: String { OutboxPayloads.encodeRooms(roomList) }

    /// The `payload` column: JSON text.
    var payloadText: String { payload.jsonString }

    /// The event as the relay gets it, once the row has its `seq`.
    func event(seq: Int64) -> OutboxEvent {
        OutboxEvent(seq: seq, eventId: eventId, event: event, rooms: roomList, payload: payload)
    }
}

/// The events a ledger outcome publishes (SPEC section 4), rendered once at commit time.
enum OutboxPayloads {
    /// The outbox row for `outcome` with a fresh `eventId`, or nil when it publishes nothing.
    static func row(for outcome: LedgerOutcome, restaurantName: String?) -> OutboxRow? {
        let eventId = makeID()
        guard let (event, rooms, payload) = event(for: outcome, eventId: eventId, restaurantName: restaurantName) else {
            return nil
        }
        return OutboxRow(eventId: eventId, event: event, roomList: rooms, payload: payload)
    }

    /// The event name, target rooms and payload of `outcome`, or nil when it publishes nothing.
    static func event(
        for outcome: LedgerOutcome,
        eventId: String,
        restaurantName: String?
    ) -> (event: String, rooms: [String], payload: JSONValue)? {
        switch outcome {
        case .points(let transaction, let newBalance):
            let payload: JSONValue = [
                "transactionId": .string(transaction.id), "guestId": .string(transaction.guestId),
                "cardId": transaction.cardId.map(JSONValue.string) ?? .null,
                "amount": .number(Double(transaction.amount)), "newBalance": .number(Double(newBalance)),
                "restaurantId": .string(transaction.restaurantId),
                "restaurantName": .string(restaurantName ?? transaction.restaurantId),
                "description": .string(transaction.description), "timestamp": .number(Double(transaction.timestamp)),
                "eventId": .string(eventId),
            ]
            let name = transaction.type == .add ? "points_added" : "points_redeemed"
            return (name, rooms(.guest(transaction.guestId), .restaurant(transaction.restaurantId)), payload)
        case .cardCreated(let cardId, let guestId, let restaurantId, let created):
            let payload: JSONValue = [
                "cardId": .string(cardId), "guestId": .string(guestId), "restaurantId": .string(restaurantId),
                "timestamp": .number(Double(created)), "eventId": .string(eventId),
            ]
            return ("card_created", rooms(.guest(guestId), .restaurant(restaurantId)), payload)
        case .guestRegistered(let guest, let created):
            guard created else { return nil }
            let payload: JSONValue = [
                "guestId": .string(guest.guestId), "name": .string(guest.name),
                "restaurantId": .string(guest.restaurantId), "timestamp": .number(Double(guest.timestamp)),
                "eventId": .string(eventId),
            ]
            return ("guest_registered", rooms(.restaurant(guest.restaurantId)), payload)
        case .alertRaised(let level, let message, let raised):
            let payload: JSONValue = [
                "level": .string(level), "message": .string(message), "timestamp": .number(Double(raised)),
                "eventId": .string(eventId),
            ]
            return ("system_alert", rooms(.admin), payload)
        case .restaurantNamed:
            return nil
        }
    }

    /// The rooms an event goes to, spelled by `ChannelName`.
    private static func rooms(_ channels: ChannelName...) -> [String] {
        channels.map(\.description)
    }

    static func encodeRooms(_ rooms: [String]) -> String {
        JSONValue.array(rooms.map(JSONValue.string)).jsonString
    }

    /// The `payload` column as the relay publishes it (null for text that is not JSON, which
    /// only a hand-edited row could hold).
    static func decodePayload(_ text: String) -> JSONValue {
        JSONValue(parsing: text) ?? .null
    }

    static func decodeRooms(_ text: String) -> [String] {
        guard case .array(let items)? = JSONValue(parsing: text) else { return [] }
        return items.compactMap(\.stringValue)
    }
}
