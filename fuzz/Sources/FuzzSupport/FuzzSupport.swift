import NIOCore

/// The fuzz input as libFuzzer hands it over.
public func fuzzBytes(_ start: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
    guard let start, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: start, count: count))
}

/// Stops the run with a message when an invariant does not hold: libFuzzer reports the crash
/// and writes the input to fuzz/artifacts/.
public func invariant(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("invariant violated: \(message())", file: file, line: line) }
}

/// The input split into a sequence of chunks: each starts with a byte whose low 7 bits (+1) are
/// the chunk's length and whose high bit is a flag the target gives a meaning to.
public func fuzzChunks(_ bytes: [UInt8]) -> [(flag: Bool, bytes: [UInt8])] {
    var chunks: [(flag: Bool, bytes: [UInt8])] = []
    var index = 0
    while index < bytes.count {
        let header = bytes[index]
        index += 1
        let length = min(Int(header & 0x7F) + 1, bytes.count - index)
        chunks.append((header & 0x80 != 0, Array(bytes[index..<index + length])))
        index += length
    }
    return chunks
}

/// Hex for messages.
public func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0" + digits : digits
    }.joined()
}
