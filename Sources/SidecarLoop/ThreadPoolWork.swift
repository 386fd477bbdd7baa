import CLibUV

/// Runs blocking work (SQLite commits and checks, large file reads) on
/// libuv's thread pool, then its completion on the loop thread. The loop
/// never waits for it.
public enum ThreadPoolWork {
    private final class Job {
        let work: @Sendable () -> Void
        let done: () -> Void

        init(work: @escaping @Sendable () -> Void, done: @escaping () -> Void) {
            self.work = work
            self.done = done
        }
    }

    /// `work` runs on a pool thread and must touch nothing the loop owns;
    /// `done` runs on the loop thread after it.
    public static func submit(loop: EventLoop, work: @escaping @Sendable () -> Void, then done: @escaping () -> Void) throws {
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(Job(work: work, done: done)).toOpaque()
        let result = uv_queue_work(loop.raw, request, { request in
            // A pool thread: only the job's Sendable work runs here.
            Unmanaged<Job>.fromOpaque(request!.pointee.data).takeUnretainedValue().work()
        }, { request, _ in
            let job = Unmanaged<Job>.fromOpaque(request!.pointee.data).takeRetainedValue()
            EventLoop.owner(of: request!.pointee.loop).inputs &+= 1
            request!.deallocate()
            job.done()
        })
        if result < 0 {
            Unmanaged<Job>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            throw LoopError(operation: "uv_queue_work", code: result)
        }
    }

    /// `work`'s value, computed on a pool thread, handed to `done` on the
    /// loop thread.
    public static func compute<Value>(
        loop: EventLoop, _ work: @escaping @Sendable () -> Value, then done: @escaping (Value) -> Void
    ) throws {
        let slot = ResultSlot<Value>()
        try submit(loop: loop, work: { slot.value = work() }, then: { done(slot.value!) })
    }
}

/// Carries a value from the pool thread to the loop thread. The pool's
/// completion callback orders the write before the read.
private final class ResultSlot<Value>: @unchecked Sendable {
    var value: Value?
}
