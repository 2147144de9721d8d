import NIOCore

/// The per-socket event budget of SPEC section 3: 100 events per second with bursts of 200;
/// a socket that stays over it for 10 seconds is disconnected.
///
/// A value with explicit times, so tests drive it without a clock.
public struct RateLimiter: Sendable {
    public enum Decision: Equatable, Sendable {
        case allow
        /// Drop the event; `notify` is true at most once a second, so a flood does not
        /// become a flood of error events.
        case drop(notify: Bool)
        case disconnect
    }

    // Constants, not stored: every socket keeps a limiter.
    public static let ratePerSecond: Double = 100
    public static let burst: Double = 200
    public static let graceBeforeDisconnect: TimeAmount = .seconds(10)

    private var tokens: Double
    private var updated: NIODeadline
    /// When the current run of drops began; a second without drops ends it.
    private var overSince: NIODeadline?
    private var lastDrop: NIODeadline?
    private var lastNotice: NIODeadline?

    public init(now: NIODeadline) {
        tokens = Self.burst
        updated = now
    }

    public mutating func admit(now: NIODeadline) -> Decision {
        let elapsed = Double((now - updated).nanoseconds) / 1e9
        tokens = min(Self.burst, tokens + max(0, elapsed) * Self.ratePerSecond)
        updated = now
        if tokens >= 1 {
            tokens -= 1
            return .allow
        }
        if let lastDrop, now - lastDrop > .seconds(1) { overSince = nil }
        lastDrop = now
        let since = overSince ?? now
        overSince = since
        if now - since >= Self.graceBeforeDisconnect { return .disconnect }
        let notify = lastNotice.map { now - $0 >= .seconds(1) } ?? true
        if notify { lastNotice = now }
        return .drop(notify: notify)
    }
}
