/// Where an event stands in the cluster's one order of recoverable events (SPEC section 4.1).
///
/// Written `<milliseconds>-<sequence>`, the form of a Redis stream entry id: the publisher takes
/// the clock of the place that assigns offsets (Redis' `TIME` in a cluster, the process under
/// `serve`) and counts within a millisecond, so offsets keep growing across a Redis restart.
/// A client sees it as an opaque string, the last argument of each recoverable event.
public struct RecoveryOffset: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    /// Before every event.
    public static let zero = RecoveryOffset(milliseconds: 0, sequence: 0)

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `<ms>-<seq>` (ASCII digits only, each at most 19 digits); nil for anything else,
    /// such as an offset another server (Node's yeast ids) gave the client.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard let dash = utf8.firstIndex(of: UInt8(ascii: "-")),
              let milliseconds = asciiDecimal(utf8[..<dash], maxDigits: 19),
              let sequence = asciiDecimal(utf8[(dash + 1)...], maxDigits: 19)
        else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    /// The offset after `self` at `now` (milliseconds): a new millisecond starts its count at 0;
    /// a clock that stands still or goes back keeps counting on the last one, so offsets only grow.
    public func next(now: UInt64) -> RecoveryOffset {
        now > milliseconds
            ? RecoveryOffset(milliseconds: now, sequence: 0)
            : RecoveryOffset(milliseconds: milliseconds, sequence: sequence + 1)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
