import Foundation
import Histogram
import SocketIO
import Vocabulary

/// The result of a run: SPEC section 7's JSON object, and a table for people.
public struct LoadReport: Sendable {
    public var scenario: String
    public var requested: Int
    public var held = 0
    public var connectSeconds = 0.0
    public var expected = 0
    /// When the first event was published (µs since the epoch).
    var publishStartedAt: UInt64 = 0
    /// What the connections received.
    var tally = Tally()
    var rssBefore: [(Int32, Int)] = []
    var rssAfter: [(Int32, Int)] = []

    init(scenario: String, requested: Int) {
        self.scenario = scenario
        self.requested = requested
    }

    public var lost: Int { max(0, expected - received) }
    /// Nothing lost, nothing twice, every connection held.
    public var succeeded: Bool { lost == 0 && duplicated == 0 && held == requested }

    public var received: Int { tally.received }
    public var duplicated: Int { tally.duplicated }
    public var disconnected: Int { tally.disconnected }
    var latency: Histogram<UInt64> { tally.latency }

    /// From the first publish to the last receipt.
    public var deliverySeconds: Double {
        publishStartedAt > 0 && tally.lastReceipt > publishStartedAt ? Double(tally.lastReceipt - publishStartedAt) / 1e6 : 0
    }

    var perSecond: Double { deliverySeconds > 0 ? Double(received) / deliverySeconds : 0 }

    func milliseconds(_ percentile: Double) -> Double {
        latency.totalCount == 0 ? 0 : Double(latency.valueAtPercentile(percentile)) / 1000
    }

    var rssPerConnection: Int {
        guard held > 0 else { return 0 }
        let grown = zip(rssBefore, rssAfter).reduce(0) { $0 + ($1.1.1 - $1.0.1) }
        return grown / held
    }

    public var json: JSONValue {
        [
            "scenario": .string(scenario),
            "connections": ["requested": .number(Double(requested)), "held": .number(Double(held)),
                            "connectSeconds": .number(rounded(connectSeconds))],
            "deliveries": ["expected": .number(Double(expected)), "received": .number(Double(received)),
                           "lost": .number(Double(lost)), "duplicated": .number(Double(duplicated)),
                           "perSecond": .number(rounded(perSecond))],
            "latencyMs": ["p50": .number(rounded(milliseconds(50))), "p99": .number(rounded(milliseconds(99))),
                          "p999": .number(rounded(milliseconds(99.9))),
                          "max": .number(rounded(latency.totalCount == 0 ? 0 : Double(latency.max) / 1000))],
            "gateways": .array(rssAfter.map { pid, rss in
                ["pid": .number(Double(pid)), "rssBytes": .number(Double(rss)), "connections": .number(Double(held / max(rssAfter.count, 1)))]
            }),
            "rssPerConnectionBytes": .number(Double(rssPerConnection)),
        ]
    }

    public var table: String {
        """
        | \(scenario) | |
        |---|---|
        | connections held | \(held) / \(requested) in \(String(format: "%.1f", connectSeconds)) s |
        | deliveries expected / received | \(expected) / \(received) |
        | lost / duplicated | \(lost) / \(duplicated) |
        | deliveries per second | \(Int(perSecond)) |
        | latency p50 / p99 / p99.9 / max | \(ms(50)) / \(ms(99)) / \(ms(99.9)) / \(String(format: "%.2f", latency.totalCount == 0 ? 0 : Double(latency.max) / 1000)) ms |
        | RSS per connection | \(rssPerConnection) B over \(rssAfter.count) gateway(s) |
        """
    }

    private func ms(_ percentile: Double) -> String { String(format: "%.2f", milliseconds(percentile)) }
    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
