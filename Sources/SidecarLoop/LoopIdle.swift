import CLibUV

/// While started, the loop polls for I/O without blocking (a libuv idle
/// handle): for work left over from one turn that the next must do even if
/// no event arrives.
public final class LoopIdle {
    private let raw: UnsafeMutablePointer<uv_idle_t>
    private var closed = false
    public private(set) var isActive = false

    public init(loop: EventLoop) throws {
        raw = .allocate(capacity: 1)
        do {
            try uvCheck(uv_idle_init(loop.raw, raw), "uv_idle_init")
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
    }

    public func start() {
        guard !closed, !isActive else { return }
        isActive = true
        // The work itself runs elsewhere (the turn hook): this only keeps
        // the poll from sleeping.
        uv_idle_start(raw) { _ in }
    }

    public func stop() {
        guard !closed, isActive else { return }
        isActive = false
        uv_idle_stop(raw)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        HandleLifetime.close(raw)
    }
}
