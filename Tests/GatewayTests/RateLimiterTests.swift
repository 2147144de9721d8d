import NIOCore
import Testing

@testable import Gateway

@Suite struct RateLimiterTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func burstThenDrop() {
        var limiter = RateLimiter(now: start)
        for _ in 0..<200 { #expect(limiter.admit(now: start) == .allow) }
        #expect(limiter.admit(now: start) == .drop(notify: true))
        #expect(limiter.admit(now: start + .milliseconds(5)) == .drop(notify: false))
    }

    @Test func refillsAtHundredPerSecond() {
        var limiter = RateLimiter(now: start)
        for _ in 0..<200 { _ = limiter.admit(now: start) }
        let later = start + .milliseconds(100)
        for _ in 0..<10 { #expect(limiter.admit(now: later) == .allow) }
        #expect(limiter.admit(now: later) == .drop(notify: true))
    }

    @Test func tenSecondsOverTheLimitDisconnects() {
        var limiter = RateLimiter(now: start)
        var now = start
        var decision = RateLimiter.Decision.allow
        // 300 events a second: always over the budget of 100.
        while decision != .disconnect, now < start + .seconds(20) {
            decision = limiter.admit(now: now)
            now = now + .microseconds(3333)
        }
        // The first drop comes once the burst of 200 is spent, after about a second.
        #expect(decision == .disconnect)
        #expect(now - start >= .seconds(10))
        #expect(now - start < .seconds(12))
    }

    @Test func aQuietSecondResetsTheGrace() {
        var limiter = RateLimiter(now: start)
        var now = start
        for _ in 0..<3 {
            // Nine seconds over the limit, then two quiet seconds.
            let end = now + .seconds(9)
            while now < end {
                #expect(limiter.admit(now: now) != .disconnect)
                now = now + .milliseconds(5)
            }
            now = now + .seconds(2)
        }
    }
}
