import CLibUV
import Glibc

/// A listening Unix socket on the loop. Each accepted connection is handed
/// to `onConnection` as a `LoopStream` that is not reading yet.
public final class UnixListener {
    public var onConnection: ((LoopStream) -> Void)?
    /// Accepting failed (rare: out of file descriptors).
    public var onAcceptError: ((LoopError) -> Void)?

    private let raw: UnsafeMutablePointer<uv_pipe_t>
    private let loop: EventLoop
    public let path: String
    private var closed = false

    /// Where the listening socket comes from.
    public enum Source {
        /// Bind this path with these permission bits. The caller makes sure
        /// no live daemon uses the path and removes a stale socket file first.
        case bind(mode: mode_t)
        /// A socket already bound and listening, such as the one systemd
        /// passes with socket activation. The socket file belongs to whoever
        /// made it: closing the listener leaves it in place.
        case inherited(descriptor: Int32)
    }

    public init(loop: EventLoop, path: String, source: Source, backlog: Int32 = 511) throws {
        self.loop = loop
        self.path = path
        raw = .allocate(capacity: 1)
        do {
            try uvCheck(uv_pipe_init(loop.raw, raw, 0), "uv_pipe_init")
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
        do {
            switch source {
            case .bind(let mode):
                // Bind under a restrictive umask so the socket is never, even
                // for an instant, more open than `mode`.
                let previous = umask(0o177)
                let bound = uv_pipe_bind(raw, path)
                umask(previous)
                try uvCheck(bound, "bind \(path)")
                guard chmod(path, mode) == 0 else {
                    throw LoopError(operation: "chmod \(path)", code: -errno)
                }
            case .inherited(let fd):
                try uvCheck(uv_pipe_open(raw, fd), "uv_pipe_open(\(fd)) for \(path)")
            }
            try uvCheck(uv_listen(UnsafeMutablePointer(OpaquePointer(raw)), backlog) { server, status in
                let owner = HandleLifetime.owner(UnixListener.self, of: UnsafeMutableRawPointer(server))
                owner.accept(status: status)
            }, "listen \(path)")
        } catch {
            close()
            throw error
        }
    }

    private func accept(status: Int32) {
        do {
            onConnection?(try LoopStream.accepted(status: status, from: UnsafeMutablePointer(OpaquePointer(raw)), loop: loop, kind: .pipe))
        } catch let error as LoopError {
            onAcceptError?(error)
        } catch {}
    }

    /// Stops listening. The socket file stays; the caller decides whether to
    /// remove it.
    public func close() {
        guard !closed else { return }
        closed = true
        onConnection = nil
        HandleLifetime.close(raw)
    }
}
