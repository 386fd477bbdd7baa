import CLibUV

/// Readiness of a file descriptor someone else owns (libcurl's sockets, a
/// pidfd), as callbacks on the loop thread.
public final class LoopPoll {
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int32(UV_READABLE.rawValue))
        public static let writable = Events(rawValue: Int32(UV_WRITABLE.rawValue))
    }

    private let raw: UnsafeMutablePointer<uv_poll_t>
    /// The events that fired, or the error (as a negative libuv code) instead.
    private var callback: ((Result<Events, LoopError>) -> Void)?
    private var closed = false

    public convenience init(loop: EventLoop, socket: Int32) throws {
        try self.init(loop: loop) { _ = try uvCheck(uv_poll_init_socket(loop.raw, $0, socket), "uv_poll_init_socket") }
    }

    /// Any other descriptor epoll can watch, e.g. a pidfd. The owner closes
    /// it only after `close()`.
    public convenience init(loop: EventLoop, fileDescriptor: Int32) throws {
        try self.init(loop: loop) { _ = try uvCheck(uv_poll_init(loop.raw, $0, fileDescriptor), "uv_poll_init") }
    }

    private init(loop: EventLoop, initialize: (UnsafeMutablePointer<uv_poll_t>) throws -> Void) throws {
        raw = .allocate(capacity: 1)
        do {
            try initialize(raw)
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
    }

    public func start(_ events: Events, _ fire: @escaping (Result<Events, LoopError>) -> Void) {
        guard !closed else { return }
        callback = fire
        uv_poll_start(raw, events.rawValue) { handle, status, events in
            let owner = HandleLifetime.owner(LoopPoll.self, of: UnsafeMutableRawPointer(handle))
            owner.callback?(status < 0 ? .failure(LoopError(operation: "poll", code: status)) : .success(Events(rawValue: events)))
        }
    }

    public func stop() {
        guard !closed else { return }
        uv_poll_stop(raw)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        callback = nil
        HandleLifetime.close(raw)
    }
}
