import CLibUV

/// Delivers a Unix signal as a callback on the loop thread.
public final class SignalWatcher {
    private let raw: UnsafeMutablePointer<uv_signal_t>
    private var callback: (() -> Void)?
    private var closed = false

    public init(loop: EventLoop, signal: Int32, _ fire: @escaping () -> Void) throws {
        raw = .allocate(capacity: 1)
        do {
            try uvCheck(uv_signal_init(loop.raw, raw), "uv_signal_init")
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
        callback = fire
        try uvCheck(uv_signal_start(raw, { handle, _ in
            HandleLifetime.owner(SignalWatcher.self, of: UnsafeMutableRawPointer(handle)).callback?()
        }, signal), "uv_signal_start(\(signal))")
        // A signal watcher alone must not keep the loop alive.
        raw.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_unref($0) }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        callback = nil
        HandleLifetime.close(raw)
    }
}
