import CLibUV
import CSidecarShims
import Glibc

/// One connected stream on the loop (a Unix socket or pipe, or a TCP
/// socket): reads are delivered to `onRead`, writes are queued to libuv
/// without blocking.
public final class LoopStream {
    public enum Kind: Sendable {
        /// A Unix socket or a pipe (uv_pipe_t).
        case pipe
        /// A TCP socket (uv_tcp_t): the metrics listener's.
        case tcp
    }

    /// Bytes read, valid only during the callback.
    public var onRead: ((UnsafeRawBufferPointer) -> Void)?
    /// The peer closed its end, or reading failed (the error, when it did).
    public var onEnd: ((LoopError?) -> Void)?
    /// Every queued write has been handed to the kernel.
    public var onWritesDrained: (() -> Void)?

    let raw: UnsafeMutablePointer<uv_stream_t>
    public let kind: Kind
    private(set) public var isClosed = false

    init(loop: EventLoop, kind: Kind = .pipe) throws {
        self.kind = kind
        // Room for either handle: both begin with the uv_stream_t fields.
        raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(MemoryLayout<uv_pipe_t>.size, MemoryLayout<uv_tcp_t>.size), alignment: 16
        ).bindMemory(to: uv_stream_t.self, capacity: 1)
        do {
            switch kind {
            case .pipe: try uvCheck(uv_pipe_init(loop.raw, UnsafeMutablePointer(OpaquePointer(raw)), 0), "uv_pipe_init")
            case .tcp: try uvCheck(uv_tcp_init(loop.raw, UnsafeMutablePointer(OpaquePointer(raw))), "uv_tcp_init")
            }
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
    }

    private var stream: UnsafeMutablePointer<uv_stream_t> { raw }

    /// The connection a listener's callback announced (`status`), accepted
    /// into a new stream of `kind` that is not reading yet.
    static func accepted(status: Int32, from server: UnsafeMutablePointer<uv_stream_t>, loop: EventLoop, kind: Kind) throws -> LoopStream {
        try uvCheck(status, "accept")
        let client = try LoopStream(loop: loop, kind: kind)
        let result = uv_accept(server, client.raw)
        guard result == 0 else {
            client.close()
            throw LoopError(operation: "accept", code: result)
        }
        return client
    }

    public func startReading() throws {
        guard !isClosed else { return }
        try uvCheck(uv_read_start(stream, { handle, _, buffer in
            let loop = EventLoop.owner(of: uv_handle_get_loop(handle))
            buffer!.pointee = uv_buf_init(
                loop.readBuffer.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(loop.readBuffer.count))
        }, { client, count, buffer in
            let owner = HandleLifetime.owner(LoopStream.self, of: UnsafeMutableRawPointer(client))
            EventLoop.owner(of: client!.pointee.loop).inputs &+= 1
            if count > 0 {
                owner.onRead?(UnsafeRawBufferPointer(start: buffer!.pointee.base, count: count))
            } else if count < 0 {
                let error = LoopError(operation: "read", code: Int32(count))
                owner.stopReading()
                owner.onEnd?(error.isEndOfFile ? nil : error)
            }
        }), "uv_read_start")
    }

    /// Stops reading (back-pressure, or a connection being drained).
    public func stopReading() {
        guard !isClosed else { return }
        uv_read_stop(stream)
    }

    /// Bytes handed to libuv but not yet to the kernel.
    public var pendingWriteBytes: Int {
        isClosed ? 0 : uv_stream_get_write_queue_size(stream)
    }

    /// Writes `bytes`, or queues what the kernel does not take at once. The
    /// bytes are copied, so the caller may reuse its buffer at once.
    /// Failures surface through `onEnd`.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, let base = bytes.baseAddress, !bytes.isEmpty else { return }
        // Straight to the kernel when nothing is queued ahead: a write that
        // completes costs no request, copy, callback or poll update.
        var written = 0
        if uv_stream_get_write_queue_size(stream) == 0 {
            var buffer = uv_buf_init(
                UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self)), UInt32(bytes.count))
            written = Int(uv_try_write(stream, &buffer, 1))
            if written == bytes.count { return }
            // EAGAIN and real errors alike go to uv_write, which reports
            // an error through its callback.
            written = max(written, 0)
        }
        queueWrite(UnsafeRawBufferPointer(rebasing: bytes[written...]))
    }

    private func queueWrite(_ bytes: UnsafeRawBufferPointer) {
        let request = WriteRequest(bytes)
        var buffer = uv_buf_init(request.storage.assumingMemoryBound(to: CChar.self), UInt32(bytes.count))
        let result = uv_write(request.raw, stream, &buffer, 1) { raw, status in
            let handle = UnsafeMutableRawPointer(raw!.pointee.handle)
            WriteRequest.take(raw!).release()
            guard let handle else { return }
            // The owner outlives its writes: libuv cancels them before the
            // close callback releases it.
            let owner = HandleLifetime.owner(LoopStream.self, of: handle)
            guard !owner.isClosed else { return }
            if status < 0 {
                owner.onEnd?(LoopError(operation: "write", code: status))
            } else if owner.pendingWriteBytes == 0 {
                owner.onWritesDrained?()
            }
        }
        if result < 0 {
            request.release()
            onEnd?(LoopError(operation: "uv_write", code: result))
        }
    }

    /// The kernel's view of the peer, or nil if it cannot be read.
    /// The peer's supplementary groups when it connected (SO_PEERGROUPS),
    /// empty when the kernel cannot say.
    public func peerGroups() -> [UInt32] {
        var fd: uv_os_fd_t = -1
        guard !isClosed else { return [] }
        let got = raw.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_fileno($0, &fd) }
        guard got == 0 else { return [] }
        var room: Int32 = 64
        while true {
            var groups = [UInt32](repeating: 0, count: Int(room))
            var count = room
            guard sidecar_peer_groups(fd, &groups, &count) == 0 else { return [] }
            if count <= room { return Array(groups.prefix(Int(count))) }
            room = count
        }
    }

    public func peerCredentials() -> PeerCredentials? {
        var fd: uv_os_fd_t = -1
        guard !isClosed else { return nil }
        let got = raw.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_fileno($0, &fd) }
        guard got == 0 else { return nil }
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var pid: Int32 = 0
        guard sidecar_peer_credentials(fd, &uid, &gid, &pid) == 0 else { return nil }
        return PeerCredentials(uid: uid, gid: gid, pid: pid)
    }

    /// Closes once everything queued is written and the peer has hung up,
    /// or `lingerMilliseconds` after the writes, whichever comes first;
    /// until then what the peer sends is read and dropped. A Unix socket
    /// closed with bytes still unread resets its peer, which may then lose
    /// the last frame (a GOAWAY) before reading it. `closed` runs once the
    /// socket is closed.
    public func closeAfterPeer(loop: EventLoop, lingerMilliseconds: UInt64, closed: @escaping () -> Void) {
        guard !isClosed else { return closed() }
        var linger: LoopTimer?
        let finish = { [self] in
            linger?.close()
            linger = nil
            close()
            closed()
        }
        onRead = { _ in }
        onEnd = { _ in finish() }
        onWritesDrained = {
            guard let timer = try? LoopTimer(loop: loop) else { return finish() }
            linger = timer
            timer.start(after: lingerMilliseconds) { finish() }
        }
        try? startReading()
        if pendingWriteBytes == 0 { onWritesDrained?() }
    }

    /// Closes the socket. Writes still queued are cancelled; to send a last
    /// frame first, close from `onWritesDrained` or with `closeAfterPeer`.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        onRead = nil
        onEnd = nil
        onWritesDrained = nil
        HandleLifetime.close(raw)
    }
}

/// A uv_write_t with its own copy of the bytes; freed in the write callback.
private final class WriteRequest {
    let raw: UnsafeMutablePointer<uv_write_t>
    let storage: UnsafeMutableRawPointer

    init(_ bytes: UnsafeRawBufferPointer) {
        raw = .allocate(capacity: 1)
        storage = .allocate(byteCount: bytes.count, alignment: 8)
        storage.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        raw.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    static func take(_ raw: UnsafeMutablePointer<uv_write_t>) -> WriteRequest {
        Unmanaged<WriteRequest>.fromOpaque(raw.pointee.data).takeUnretainedValue()
    }

    func release() {
        Unmanaged<WriteRequest>.fromOpaque(raw.pointee.data).release()
    }

    deinit {
        storage.deallocate()
        raw.deallocate()
    }
}
