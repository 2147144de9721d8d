import Testing

@testable import LoadTest

/// The load generator reads each event's id and publish time straight from the frame's bytes.
@Suite struct LoadEventFieldsTests {
    func fields(_ text: String) -> EventFields? {
        Array(text.utf8).withUnsafeBytes { EventFields($0) }
    }

    @Test func readsIdAndPublishTime() throws {
        let event = try #require(fields(#"42["points_added",{"eventId":"lt1-e7","sentAt":1764122400123456,"seq":7}]"#))
        #expect(event.sentAt == 1_764_122_400_123_456)
        #expect(event.idHash == fields(#"42["x",{"sentAt":5,"eventId":"lt1-e7"}]"#)?.idHash)
        #expect(event.idHash != fields(#"42["x",{"eventId":"lt1-e8","sentAt":5}]"#)?.idHash)
    }

    @Test(arguments: ["2", "40{\"sid\":\"a\"}", #"42["x",{"eventId":"e"}]"#, #"42["x",{"sentAt":1}]"#, #"43["x",{"eventId":"e","sentAt":1}]"#, #"42["x",{"eventId":"e","sentAt":"1"}]"#])
    func ignoresWhatIsNotALoadEvent(_ text: String) {
        #expect(fields(text) == nil)
    }
}
