extension String {
    /// The string `bytes` spell when they are UTF-8; nil, not repaired, when they are not.
    ///
    /// Through `UTF8Span`, which is specialized for bytes: `String(validating:as:)` is generic
    /// over its encoding across the standard library's boundary, and looked its type metadata up
    /// at run time for every string (a third of reading a Redis broadcast's addressing, perf).
    public init?(validatingUTF8Bytes bytes: UnsafeRawBufferPointer) {
        guard let span = try? UTF8Span(validating: bytes.assumingMemoryBound(to: UInt8.self).span) else { return nil }
        self.init(copying: span)
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes are UTF-8, checked without making a string of them.
    public var isValidUTF8: Bool {
        (try? UTF8Span(validating: assumingMemoryBound(to: UInt8.self).span)) != nil
    }
}
