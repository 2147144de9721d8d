import Foundation
import Testing

@testable import PointsLedger

@Suite struct LedgerIDTests {
    /// Ids are lowercase version 4 UUIDs, as they were when Foundation made them.
    @Test func idsAreVersion4UUIDs() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = makeID()
            #expect(id.count == 36)
            #expect(id == id.lowercased())
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil)
            let bytes = Array(id.utf8)
            #expect(bytes[14] == UInt8(ascii: "4"))
            #expect([UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(bytes[19]))
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }
}
