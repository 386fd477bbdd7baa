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
            let owner = EventLoop.owner(of: request!.pointee.loop)
            owner.inputs &+= 1
            owner.poolWorkInFlight -= 1
            request!.deallocate()
            job.done()
        })
        if result >= 0 { loop.poolWorkInFlight += 1 }
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

    /// Like `compute`, but the loop waits at most `milliseconds`: past it
    /// `done` gets nil, the value, if it ever comes, is dropped, and
    /// `lateEnd` runs when the work's thread is free again (what the work
    /// holds stays held until then).
    public static func compute<Value>(
        loop: EventLoop, within milliseconds: UInt64, _ work: @escaping @Sendable () -> Value,
        then done: @escaping (Value?) -> Void, lateEnd: @escaping () -> Void = {}
    ) throws {
        let bound = BoundedCompletion(done)
        let timer = try LoopTimer(loop: loop)
        bound.timer = timer
        timer.start(after: milliseconds) { bound.finish(nil) }
        do {
            try compute(loop: loop, work, then: { if !bound.finish($0) { lateEnd() } })
        } catch {
            bound.timer = nil
            timer.close()
            throw error
        }
    }
}

/// Whichever comes first, the value or the time limit, reaches `done`.
private final class BoundedCompletion<Value> {
    private var done: ((Value?) -> Void)?
    var timer: LoopTimer?

    init(_ done: @escaping (Value?) -> Void) {
        self.done = done
    }

    /// False when `done` was already called (this came second).
    @discardableResult
    func finish(_ value: Value?) -> Bool {
        timer?.close()
        timer = nil
        guard let done else { return false }
        self.done = nil
        done(value)
        return true
    }
}

/// Carries a value from the pool thread to the loop thread. The pool's
/// completion callback orders the write before the read.
private final class ResultSlot<Value>: @unchecked Sendable {
    var value: Value?
}
