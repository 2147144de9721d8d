import Dispatch
import NIOCore
import NIOPosix
import Testing

import HTTPServer

/// A task that prefers a loop's executor runs there, and comes back there after an await that
/// another thread resumes: the points endpoint counts on both to answer without a hop. A job the
/// executor dropped would hang the await, hence the time limit.
@Suite struct EventLoopTaskExecutorTests {
    @Test(.timeLimit(.minutes(1))) func aTaskRunsAndResumesOnItsLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let executor = EventLoopTaskExecutor.of(loop)
        #expect(EventLoopTaskExecutor.of(loop) === executor)
        #expect(EventLoopTaskExecutor.of(group.next()) !== executor)

        let seen = await Task(executorPreference: executor) { () -> [Bool] in
            let before = loop.inEventLoop
            // Resumed from a Dispatch thread, as the ledger's writer queue resumes a write.
            let value = await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(10)) { continuation.resume(returning: 7) }
            }
            let after = loop.inEventLoop
            return [before, value == 7, after]
        }.value
        #expect(seen == [true, true, true])
        try await group.shutdownGracefully()
    }
}
