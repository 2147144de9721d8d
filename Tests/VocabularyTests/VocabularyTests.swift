import Foundation
import Testing

@testable import Vocabulary

/// The JSON reader and writer, held to Foundation's `JSONSerialization` on the same texts.
@Suite struct JSONTextTests {
    @Test(arguments: [
        #"{"a":[1,-2.5,1e3,0,true,false,null,"x"]}"#, #"[]"#, #"{}"#, #" [ 1 , { "k" : "v" } ] "#,
        #""\u00e9\ud83d\ude00\n\t\"\\\/""#, "-0", "123456789012", #"{"nested":{"deep":[[[]]]}}"#,
    ])
    func agreesWithFoundation(_ text: String) throws {
        let ours = try #require(JSONValue(parsing: text))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let reparsed = try JSONSerialization.jsonObject(with: Data(ours.jsonString.utf8), options: [.fragmentsAllowed])
        #expect(NSDictionary(dictionary: ["v": theirs]) == NSDictionary(dictionary: ["v": reparsed]))
        #expect(JSONValue(parsing: ours.jsonString) == ours)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "\"abc",
        "\"\\x\"", "\"\\ud800\"", "[1] 2", "{'a':1}", "\"\u{01}\"", "NaN", "Infinity", "1e999",
        String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
    ])
    func rejects(_ text: String) {
        #expect(JSONValue(parsing: text) == nil)
    }

    @Test func writesEscapesAndNumbers() {
        #expect(JSONValue.string("a\"b\\c\n\u{01}é").jsonString == #""a\"b\\c\n\u0001é""#)
        #expect(JSONValue.number(-0.5).jsonString == "-0.5")
        #expect(JSONValue.number(1e21).jsonString == "1e+21")
    }

    /// Every ASCII byte, escaped or copied in a run, reads back as itself; a sequence without
    /// contiguous storage is written the same.
    @Test func writesEveryCharacterBackAsItself() throws {
        let everything = String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self) + "é😀 tail"
        for sample in [everything, "", "plain", "\"", "end\\", "\n\u{1F}mid\t"] {
            let written = JSONValue.string(sample).jsonString
            let theirs = try JSONSerialization.jsonObject(with: Data(written.utf8), options: [.fragmentsAllowed]) as? String
            #expect(theirs == sample)
            var out: [UInt8] = []
            JSONValue.writeString(utf8: AnySequence(sample.utf8), to: &out)
            #expect(String(decoding: out, as: UTF8.self) == written)
        }
    }
}

@Suite struct ChannelNameBuilderTests {
    /// The builders spell every room as the grammar reads it back.
    @Test func buildersRoundTrip() {
        #expect(ChannelName.guest("g-1").description == "guest:g-1")
        #expect(ChannelName.restaurant("r.2").description == "restaurant:r.2")
        #expect(ChannelName.user("u@3").description == "user:u@3")
        #expect(ChannelName.admin.description == "admin")
        for channel in [ChannelName.guest("g"), .restaurant("r"), .user("u"), .admin] {
            #expect(ChannelName(channel.description) == channel)
        }
    }
}
