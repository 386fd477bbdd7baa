import CLibUV
import Glibc

/// How long the loop thread computes between two waits for events: the
/// longest time an event (a call, a timer) can sit behind other work. Read
/// as the thread's own CPU time just before each wait (a prepare handle),
/// so time the thread was preempted by others on a shared machine does not
/// count, and, unlike a timer's lateness, it is not rounded to the
/// timers' millisecond.
///
/// The thread's CPU clock is a system call (about 2 us in this VM, a sixth
/// of a sequential call), so it is read before a wait only when 100 us or
/// more have passed since the last reading. A reading also counts the
/// stretches since the one before, which took under 0.1 ms together: the
/// figure may be up to that much high, never low.
public final class LoopBusyMeter {
    private let raw: UnsafeMutablePointer<uv_prepare_t>
    private var lastCPUNanoseconds: UInt64 = 0
    private var lastReadingNanoseconds: UInt64 = 0
    /// The window's maximum, kept as this minute's and the last one's.
    private var currentMax: UInt64 = 0
    private var previousMax: UInt64 = 0
    private var windowStart: UInt64 = 0
    private var closed = false
    /// The first stretch began before the loop ran (the daemon's set-up).
    private var sawFirstTurn = false

    static let windowNanoseconds: UInt64 = 60_000_000_000
    static let readingSpacingNanoseconds: UInt64 = 100_000

    public init(loop: EventLoop) throws {
        raw = .allocate(capacity: 1)
        do {
            try uvCheck(uv_prepare_init(loop.raw, raw), "uv_prepare_init")
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
        windowStart = uv_hrtime()
        try uvCheck(uv_prepare_start(raw, { handle in
            HandleLifetime.owner(LoopBusyMeter.self, of: UnsafeMutableRawPointer(handle)).turnEnds()
        }), "uv_prepare_start")
        raw.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_unref($0) }
    }

    /// The longest working stretch over the last one to two minutes.
    public var maxSeconds: Double { Double(max(currentMax, previousMax)) / 1e9 }

    private static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private func turnEnds() {
        let now = uv_hrtime()
        guard now &- lastReadingNanoseconds >= Self.readingSpacingNanoseconds else { return }
        lastReadingNanoseconds = now
        let cpu = Self.threadCPUNanoseconds()
        let busy = cpu > lastCPUNanoseconds ? cpu - lastCPUNanoseconds : 0
        lastCPUNanoseconds = cpu
        guard sawFirstTurn else {
            sawFirstTurn = true
            return
        }
        if now - windowStart >= Self.windowNanoseconds {
            previousMax = currentMax
            currentMax = 0
            windowStart = now
        }
        if busy > currentMax { currentMax = busy }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        HandleLifetime.close(raw)
    }
}
