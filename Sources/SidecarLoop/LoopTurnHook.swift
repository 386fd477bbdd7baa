import CLibUV

/// Runs a callback once per loop turn, right after the turn's I/O callbacks
/// (a libuv check handle). Work gathered during a turn (replies to flush,
/// rows to commit) is done here once instead of once per event.
public final class LoopTurnHook {
    private let raw: UnsafeMutablePointer<uv_check_t>
    private var callback: (() -> Void)?
    private var closed = false

    public init(loop: EventLoop, _ fire: @escaping () -> Void) throws {
        raw = .allocate(capacity: 1)
        do {
            try uvCheck(uv_check_init(loop.raw, raw), "uv_check_init")
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
        callback = fire
        try uvCheck(uv_check_start(raw, { handle in
            HandleLifetime.owner(LoopTurnHook.self, of: UnsafeMutableRawPointer(handle)).callback?()
        }), "uv_check_start")
        raw.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_unref($0) }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        callback = nil
        HandleLifetime.close(raw)
    }
}
