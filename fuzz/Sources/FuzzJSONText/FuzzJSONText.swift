// The JSON text parser of Socket.IO payloads and cluster requests (JSONValue(parsing:)).
//
// Invariants: a parsed value serialises to JSON that parses to an equal value; serialising that
// again gives text of the same length (object member order may differ between two dictionaries);
// whatever parses was at most JSONTextParser.maxDepth deep.
import FuzzSupport
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
    guard let value = JSONValue(parsing: text) else { return 0 }
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

@_cdecl("FuzzJSONText_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzJSONText)
}
