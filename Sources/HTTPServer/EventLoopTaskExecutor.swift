import NIOConcurrencyHelpers
import NIOCore

/// A Swift task executor that runs its jobs on one NIO event loop.
///
/// A request handler written as async code (hummingbird's router) started with a plain `Task`
/// runs on the global pool: the request crosses from the connection's loop to a pool thread, and
/// its answer crosses back. On this machine each such hand-over costs tens of µs of CPU and a
/// wake-up, and a points write made four of them. A task that prefers its connection's loop
/// starts there, resumes there when the ledger answers, and writes its response without a hop.
///
/// Only for work that never blocks: everything such a task awaits must run elsewhere (the
/// ledger's writer queue, the database's connection), as the event loop's own callbacks do.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    private init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// The executor of `eventLoop`, one per loop for the life of the process: a request
    /// allocates none, and the executor outlives every task that prefers it.
    public static func of(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        let key = ObjectIdentifier(eventLoop)
        return executors.withLockedValue { executors in
            if let known = executors[key] { return known }
            let made = EventLoopTaskExecutor(eventLoop: eventLoop)
            executors[key] = made
            return made
        }
    }

    private static let executors = NIOLockedValueBox<[ObjectIdentifier: EventLoopTaskExecutor]>([:])

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }
}
