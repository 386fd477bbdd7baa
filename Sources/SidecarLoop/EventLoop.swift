import CLibUV

/// The one libuv loop of the daemon. Not thread-safe, like libuv itself:
/// everything that touches it runs on the thread that calls `run()`.
public final class EventLoop {
    let raw: UnsafeMutablePointer<uv_loop_t>
    /// One read buffer for every stream: a read is handled completely inside
    /// its callback, so streams never need the buffer at the same time.
    let readBuffer: UnsafeMutableRawBufferPointer

    public static let readBufferBytes = 64 * 1024

    /// Counts what came in from outside the loop thread: stream reads and
    /// thread-pool completions. What must hear every change made before an
    /// input was sent (FileWatcher) needs to look again only once it moved.
    public internal(set) var inputs: UInt64 = 0
    /// Pieces of thread-pool work submitted and not yet completed (a stuck
    /// one stays counted: the daemon exits without waiting for it).
    public internal(set) var poolWorkInFlight = 0

    public init() throws {
        raw = .allocate(capacity: 1)
        readBuffer = .allocate(byteCount: Self.readBufferBytes, alignment: 16)
        do {
            try uvCheck(uv_loop_init(raw), "uv_loop_init")
        } catch {
            raw.deallocate()
            readBuffer.deallocate()
            throw error
        }
        raw.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        readBuffer.deallocate()
        raw.deallocate()
    }

    /// Runs until nothing is left to do or `stop()` is called.
    public func run() {
        uv_run(raw, UV_RUN_DEFAULT)
    }

    public func stop() {
        uv_stop(raw)
    }

    /// Closes the loop after every handle was closed: runs the loop until the
    /// close callbacks are done, then releases libuv's resources.
    public func close() {
        uv_walk(raw, { handle, _ in
            guard let handle, uv_is_closing(handle) == 0 else { return }
            // A handle nobody closed: close it without an owner callback.
            uv_close(handle, nil)
        }, nil)
        uv_run(raw, UV_RUN_DEFAULT)
        uv_loop_close(raw)
    }

    /// The loop's idea of now, in milliseconds, updated once per turn.
    public var nowMilliseconds: UInt64 { uv_now(raw) }

    /// A fresh monotonic clock reading in nanoseconds.
    public static func monotonicNanoseconds() -> UInt64 { uv_hrtime() }

    static func owner(of loop: UnsafeMutablePointer<uv_loop_t>?) -> EventLoop {
        Unmanaged<EventLoop>.fromOpaque(loop!.pointee.data).takeUnretainedValue()
    }
}
