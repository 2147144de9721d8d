/// A run of ASCII digits read as a number, for the counts and ids that come off the wire.
///
/// Only `0`-`9` count (never another script's digits, which `Character.wholeNumberValue` would
/// read), between 1 and `maxDigits` of them, so the value always fits: `maxDigits` at most 19.
func asciiDecimal(_ bytes: some Collection<UInt8>, maxDigits: Int) -> UInt64? {
    precondition(maxDigits <= 19, "20 digits can overflow UInt64")
    guard (1...maxDigits).contains(bytes.count) else { return nil }
    var value: UInt64 = 0
    for byte in bytes {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
        value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
    }
    return value
}
