import Testing

@testable import PointsLedger

@Suite struct PublishedRangesTests {
    @Test func consecutiveSeqsMakeOneRange() {
        #expect(Array(PublishedRanges([5, 3, 4, 9, 10, 1])) == [1...1, 3...5, 9...10])
        #expect(Array(PublishedRanges([7, 7, 8])) == [7...8])
        #expect(Array(PublishedRanges([])).isEmpty)
        #expect(Array(PublishedRanges([Int64.max, Int64.max - 1, Int64.max])) == [(Int64.max - 1)...Int64.max])
    }
}
