// The JSON text parser of Socket.IO payloads and cluster requests (JSONValue(parsing:)).
//
// Invariants: a parsed value serialises to JSON that parses to an equal value; serialising that
// again gives text of the same length (object member order may differ between two dictionaries);
// whatever parses was at most JSONTextParser.maxDepth deep. The same JSON as a CONNECT auth
// payload: its recovery claim (`{pid, offset}`, SPEC 4.1) is read without a trap, and an offset
// that parses prints back to text that parses to the same offset.
import FuzzSupport
@testable import Vocabulary
@testable import SocketIO

func depth(_ value: JSONValue) -> Int {
    switch value {
    case .array(let items): 1 + (items.map(depth).max() ?? 0)
    case .object(let members): 1 + (members.values.map(depth).max() ?? 0)
    default: 0
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONText(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: fuzzBytes(start, count), as: UTF8.self)
    checkOffset(text)
    guard let value = JSONValue(parsing: text) else { return 0 }
    if let claim = RecoveryClaim(auth: value), let offset = claim.offset {
        invariant(RecoveryOffset(offset.description) == offset, "offset \(offset) does not print back")
    }
    invariant(depth(value) <= JSONTextParser.maxDepth, "nesting \(depth(value)) parsed")
    let serialised = value.jsonString
    guard let again = JSONValue(parsing: serialised) else {
        invariant(false, "serialised form \(serialised) does not parse")
        return 0
    }
    invariant(again == value, "\(value) serialised as \(serialised) parses to \(again)")
    invariant(again.jsonString.utf8.count == serialised.utf8.count, "serialisation is not stable")
    // A substring parses as the same text does (packets hand the parser a Substring).
    let wrapped = " " + text
    invariant(JSONValue(parsing: wrapped.dropFirst()) == value, "a Substring parses differently")
    return 0
}

/// A recovery offset, as a client may send any text for one.
func checkOffset(_ text: String) {
    guard let offset = RecoveryOffset(text) else { return }
    invariant(RecoveryOffset(offset.description) == offset, "offset \(text) prints as \(offset)")
}

@_cdecl("FuzzJSONText_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzJSONText)
}
