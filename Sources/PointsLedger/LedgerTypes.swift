import NIOConcurrencyHelpers
import Vocabulary

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A change of a guest's balance (SPEC 5.1): `amount` is always positive.
public struct PointsChange: Sendable, Equatable {
    public var guestId: String
    public var restaurantId: String
    public var amount: Int64
    public var description: String

    public init(guestId: String, restaurantId: String, amount: Int64, description: String) {
        self.guestId = guestId
        self.restaurantId = restaurantId
        self.amount = amount
        self.description = description
    }
}

/// One committed transaction: `{id, type, guestId, restaurantId, cardId, amount, balanceAfter, description, timestamp}`.
public struct TransactionRecord: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case add
        case redeem
    }

    public var id: String
    public var type: Kind
    public var guestId: String
    public var restaurantId: String
    public var cardId: String?
    public var amount: Int64
    public var balanceAfter: Int64
    public var description: String
    /// Milliseconds since the epoch.
    public var timestamp: Int64

    public var json: JSONValue {
        [
            "id": .string(id), "type": .string(type.rawValue), "guestId": .string(guestId),
            "restaurantId": .string(restaurantId), "cardId": cardId.map(JSONValue.string) ?? .null,
            "amount": .number(Double(amount)), "balanceAfter": .number(Double(balanceAfter)),
            "description": .string(description), "timestamp": .number(Double(timestamp)),
        ]
    }
}

/// A guest's registration at a restaurant: `{guestId, name, restaurantId, timestamp}`.
public struct GuestRecord: Sendable, Equatable {
    public var guestId: String
    public var name: String
    public var restaurantId: String
    public var timestamp: Int64

    public var json: JSONValue {
        ["guestId": .string(guestId), "name": .string(name), "restaurantId": .string(restaurantId),
         "timestamp": .number(Double(timestamp))]
    }
}

/// A write to the ledger; each is one database transaction together with its outbox row.
public enum LedgerWrite: Sendable, Equatable {
    case addPoints(PointsChange)
    case redeemPoints(PointsChange)
    case registerGuest(guestId: String, name: String, restaurantId: String)
    case createCard(guestId: String, restaurantId: String)
    case nameRestaurant(restaurantId: String, name: String)
    case raiseAlert(level: String, message: String)
}

/// What a write did.
public enum LedgerOutcome: Sendable, Equatable {
    case points(TransactionRecord, newBalance: Int64)
    /// `created` is false when the guest was already registered there (the name was updated).
    case guestRegistered(GuestRecord, created: Bool)
    case cardCreated(cardId: String, guestId: String, restaurantId: String, timestamp: Int64)
    case restaurantNamed(restaurantId: String, name: String)
    case alertRaised(level: String, message: String, timestamp: Int64)
}

/// Why the ledger refused a write or read.
public enum LedgerError: Error, Sendable, Equatable {
    case insufficientPoints(balance: Int64)
    case cardExists
    case notFound
    /// The same `Idempotency-Key` came with another request.
    case idempotencyKeyReused
}

/// The caller's `Idempotency-Key`, scoped to its `sub`, with a fingerprint of the request it came with.
public struct IdempotencyKey: Sendable, Equatable {
    public var scope: String
    public var key: String
    public var fingerprint: String

    public init(scope: String, key: String, fingerprint: String) {
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
    }

    /// How long a key is kept (SPEC 5.1).
    public static let lifetimeMilliseconds: Int64 = 24 * 3600 * 1000
}

/// An HTTP answer kept for replays: the status and the body, byte for byte.
public struct StoredResponse: Sendable, Hashable {
    public var status: Int
    public var body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

/// The result of `Ledger.apply`: a response made now, or the stored one of an earlier request.
public enum LedgerReply: Sendable, Equatable {
    case fresh(StoredResponse, LedgerOutcome)
    case replay(StoredResponse)

    public var response: StoredResponse {
        switch self {
        case .fresh(let response, _), .replay(let response): response
        }
    }
}

/// One page of a guest's transactions, newest first.
public struct TransactionPage: Sendable, Equatable {
    public var transactions: [TransactionRecord]
    /// The `seq` to continue before, or nil on the last page.
    public var next: Int64?
}

/// An event committed with its ledger change, waiting to be published (the transactional outbox).
public struct OutboxEvent: Sendable, Equatable {
    /// Commit order.
    public var seq: Int64
    public var eventId: String
    public var event: String
    public var rooms: [String]
    /// The event's payload, `eventId` included (stored as JSON text; handed over at commit as the
    /// value it was rendered from, so the relay does not parse it back).
    public var payload: JSONValue
}

/// Sorted `seq`s as the fewest closed ranges, so that marking a batch published is one
/// statement per run of consecutive events (one, when a single writer commits them all).
struct PublishedRanges: Sequence, Sendable {
    private let ranges: [ClosedRange<Int64>]

    init(_ seqs: [Int64]) {
        var ranges: [ClosedRange<Int64>] = []
        for seq in seqs.sorted() {
            if let last = ranges.last, seq <= last.upperBound || seq == last.upperBound &+ 1 {
                ranges[ranges.count - 1] = last.lowerBound...Swift.max(last.upperBound, seq)
            } else {
                ranges.append(seq...seq)
            }
        }
        self.ranges = ranges
    }

    func makeIterator() -> IndexingIterator<[ClosedRange<Int64>]> { ranges.makeIterator() }
}

/// Idempotency keys live a day (SPEC 5.1); sweeping the expired ones once a minute, with the
/// relay's marks, keeps the table small without a statement on every batch.
final class IdempotencySweep: Sendable {
    private let last = NIOLockedValueBox<Int64>(0)

    /// The `created_at` bound to delete up to, when a sweep is due now; nil otherwise.
    func due() -> Int64? {
        let now = epochMilliseconds()
        return last.withLockedValue { last in
            guard now - last >= 60_000 else { return nil }
            last = now
            return now - IdempotencyKey.lifetimeMilliseconds
        }
    }
}

/// Milliseconds since the epoch, the unit of every `timestamp` (SPEC section 4).
func epochMilliseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}

/// A fresh random id for transactions, cards and events: a version 4 UUID, lowercase.
func makeID() -> String {
    // The bits come from the system generator (getrandom): Foundation's `UUID()` opened, read
    // and closed /dev/urandom for each one, two of them per points event (strace).
    var generator = SystemRandomNumberGenerator()
    var bytes = (generator.next() as UInt64, generator.next() as UInt64)
    return withUnsafeMutableBytes(of: &bytes) { raw in
        raw[6] = raw[6] & 0x0F | 0x40 // version 4
        raw[8] = raw[8] & 0x3F | 0x80 // the RFC 4122 variant
        return UUID(uuid: raw.load(as: uuid_t.self)).uuidString.lowercased()
    }
}
