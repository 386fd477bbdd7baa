import CLibUV

/// A libuv timer. Its callback runs on the loop thread.
public final class LoopTimer {
    private let raw: UnsafeMutablePointer<uv_timer_t>
    private var callback: (() -> Void)?
    private var closed = false

    public init(loop: EventLoop) throws {
        raw = .allocate(capacity: 1)
        do {
            try uvCheck(uv_timer_init(loop.raw, raw), "uv_timer_init")
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
    }

    /// Fires once after `milliseconds`, then every `repeatMilliseconds` if non-zero.
    public func start(after milliseconds: UInt64, repeat repeatMilliseconds: UInt64 = 0, _ fire: @escaping () -> Void) {
        guard !closed else { return }
        callback = fire
        uv_timer_start(raw, { handle in
            HandleLifetime.owner(LoopTimer.self, of: UnsafeMutableRawPointer(handle)).callback?()
        }, milliseconds, repeatMilliseconds)
    }

    public func stop() {
        guard !closed else { return }
        uv_timer_stop(raw)
    }

    /// Keeps the loop from waiting on this timer alone (for housekeeping timers).
    public func unref() {
        raw.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_unref($0) }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        callback = nil
        HandleLifetime.close(raw)
    }
}
