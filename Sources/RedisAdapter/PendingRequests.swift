import SocketIO
import Vocabulary

/// Requests this node sent that wait for answers from the other nodes.
///
/// An actor: responses arrive on the subscriber's event loop, requesters wait in tasks, and a
/// request ends when every expected node answered or its timeout passed (off the hot path).
actor PendingRequests {
    private struct Waiting {
        var expected: Int
        var responses: [JSONValue] = []
        let continuation: CheckedContinuation<[JSONValue], any Error>
    }

    private var waiting: [String: Waiting] = [:]

    /// Sends with `publish` and waits for `expected` responses, or `timeout`; returns what came.
    ///
    /// The request is registered before it is published: a fast node may answer before the
    /// publish returns, and that answer must find someone waiting.
    func collect(
        requestId: String,
        expected: Int,
        timeout: Duration,
        publish: @Sendable @escaping () async throws -> Void
    ) async throws -> [JSONValue] {
        guard expected > 0 else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            waiting[requestId] = Waiting(expected: expected, continuation: continuation)
            Task {
                do {
                    try await publish()
                } catch {
                    self.fail(requestId, error)
                    return
                }
                try? await Task.sleep(for: timeout)
                self.finish(requestId)
            }
        }
    }

    private func fail(_ requestId: String, _ error: any Error) {
        waiting.removeValue(forKey: requestId)?.continuation.resume(throwing: error)
    }

    /// A response from another node.
    func receive(_ response: JSONValue) {
        guard let requestId = response["requestId"]?.stringValue, var request = waiting[requestId] else { return }
        request.responses.append(response)
        waiting[requestId] = request
        if request.responses.count >= request.expected { finish(requestId) }
    }

    private func finish(_ requestId: String) {
        guard let request = waiting.removeValue(forKey: requestId) else { return }
        request.continuation.resume(returning: request.responses)
    }
}
