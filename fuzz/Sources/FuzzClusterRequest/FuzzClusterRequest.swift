// Requests on the redis-adapter's request channel: JSON such as
// `{"uid":"abc123","type":5,"requestId":"x","opts":{"rooms":["r"],"except":[]}}`, read by
// ClusterRequests.decode and ClusterRequest(json:); also the REMOTE_FETCH answer's sockets
// (SocketDetails(json:)).
//
// Invariants: the JSON a decoded request publishes decodes to a request that publishes the very
// same JSON (decode . encode is the identity on what Herald writes), and it survives the text
// round trip.
import FuzzSupport
import NIOCore
@testable import RedisAdapter
import SocketIO
import Vocabulary

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClusterRequest(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let payload = ByteBuffer(bytes: fuzzBytes(start, count))
    guard let json = ClusterRequests.decode(payload) else { return 0 }
    _ = SocketDetails(json: json)
    guard let request = ClusterRequest(json: json) else { return 0 }
    let published = request.json
    guard let again = ClusterRequest(json: published) else {
        invariant(false, "\(request) publishes \(published.jsonString), which is refused")
        return 0
    }
    invariant(again.json == published, "\(request) publishes \(published.jsonString), read back as \(again)")
    let text = ByteBuffer(string: published.jsonString)
    let fromText = ClusterRequests.decode(text).flatMap(ClusterRequest.init(json:))
    invariant(fromText?.json == published, "\(published.jsonString) does not read back from text")
    return 0
}

@_cdecl("FuzzClusterRequest_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzClusterRequest)
}
