#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback TCP port nobody listens on right now (bound to port 0, read back, released).
public func freeLoopbackPort() throws -> Int {
    try bindLoopback(port: 0)
}

/// The first of `count` consecutive free loopback ports, for scripts that number their
/// servers from one base port (`deploy/local-cluster --port P` uses P .. P+count-1).
///
/// Taken below Linux's ephemeral range (32768 and up): a port there that is free now can be
/// taken by any outgoing connection before the script binds it.
public func freeLoopbackPortRange(count: Int) throws -> Int {
    for _ in 0..<200 {
        let base = Int.random(in: 10_000..<(32_768 - count))
        if (try? (base..<base + count).map { try bindLoopback(port: $0) }) != nil { return base }
    }
    throw TestSupportError("no \(count) consecutive free loopback ports")
}

/// Binds a loopback socket to `port` (0: any), releases it, and returns the port it had.
private func bindLoopback(port: Int) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress -> Int32 in
            guard bind(fd, socketAddress, length) == 0 else { return -1 }
            return getsockname(fd, socketAddress, &length)
        }
    }
    guard bound == 0 else { throw TestSupportError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
