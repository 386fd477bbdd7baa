import Foundation
import Glibc
import SidecarCore
import SidecarWire
import Synchronization

/// One connection to the daemon: calls are written by the callers' tasks,
/// answers are read by a dedicated thread and matched to their calls by id.
final class ClientConnection: Sendable {
    enum Pending {
        case unary(CheckedContinuation<[UInt8], Error>)
        case stream(AsyncThrowingStream<[UInt8], Error>.Continuation)

        func fail(_ error: Error) {
            switch self {
            case .unary(let continuation): continuation.resume(throwing: error)
            case .stream(let continuation): continuation.finish(throwing: error)
            }
        }
    }

    private struct State {
        var pending: [UInt64: Pending] = [:]
        var nextCallID: UInt64 = 1
        /// Set when the connection is over; later calls fail with it.
        var closedError: SidecarError?
        var serverMaxMessageBytes = SidecarDefaults.maxMessageBytes
        /// From the HELLO_ACK; nil until it has arrived.
        var server: ServerInfo?
    }

    let socketPath: String
    private let fd: Int32
    private let state = Mutex(State())
    /// Held while writing; true once the reader closed the socket, so no
    /// write can reach a descriptor number the process has reused.
    private let writeLock = Mutex(false)

    /// Answers larger than this are a broken stream, not a message.
    static let maxIncomingBytes = 256 * 1024 * 1024

    /// `hello`: the HELLO frame, header and body.
    init(fd: Int32, socketPath: String, hello: [UInt8]) {
        self.fd = fd
        self.socketPath = socketPath
        _ = UnixSocket.sendAll(fd, hello)
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "sidecar-client-reader"
        thread.start()
    }

    var isClosed: Bool { state.withLock { $0.closedError != nil } }

    // MARK: Calls

    /// Registers a call and sends it; the answer resumes `pending`.
    func start(method: String, payload: [UInt8], timeoutMilliseconds: UInt32, pending: Pending) -> UInt64? {
        let registered: Result<(UInt64, Int), SidecarError> = state.withLock { state in
            if let error = state.closedError { return .failure(error) }
            let id = state.nextCallID
            state.nextCallID += 1
            state.pending[id] = pending
            return .success((id, state.serverMaxMessageBytes))
        }
        let id: UInt64
        switch registered {
        case .failure(let error):
            pending.fail(error)
            return nil
        case .success(let (callID, maxBytes)):
            id = callID
            // The server would refuse it anyway; failing here keeps the
            // connection and says which call was too big.
            if payload.count > maxBytes - 64 {
                finish(id, with: SidecarError(
                    .resourceExhausted, "request of \(payload.count) bytes exceeds the daemon's limit of \(maxBytes) bytes"))
                return nil
            }
        }
        let frame = ClientFrame.call(id: id, method: method, timeoutMilliseconds: timeoutMilliseconds, payload: payload)
        if !write(frame) {
            // The daemon may have said why it closed (a GOAWAY) just before.
            let reason = state.withLock { $0.closedError }
            finish(id, with: reason ?? SidecarError.unreachable(socket: socketPath, reason: "connection lost while sending"))
            return nil
        }
        return id
    }

    /// Sends a raw frame; tests use it to speak the protocol directly.
    func write(_ frame: ClientFrame) -> Bool {
        let bytes = frame.frameBytes()
        return writeLock.withLock { closed in !closed && UnixSocket.sendAll(fd, bytes) }
    }

    /// Stops waiting for call `id` with `error`, and asks the server to stop it.
    func cancel(_ id: UInt64, with error: SidecarError) {
        if finish(id, with: error) {
            _ = write(.cancel(id: id))
        }
    }

    @discardableResult
    private func finish(_ id: UInt64, with error: Error) -> Bool {
        guard let pending = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return false }
        pending.fail(error)
        return true
    }

    /// What the daemon said of itself when the connection opened.
    var server: ServerInfo? { state.withLock { $0.server } }

    func close() {
        writeLock.withLock { closed in
            if !closed { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: Reading

    private func readLoop() {
        var decoder = FrameDecoder(maxBodyBytes: Self.maxIncomingBytes)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var ending = SidecarError.unreachable(socket: socketPath, reason: "the daemon closed the connection")
        reading: while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                if count < 0 {
                    ending = .unreachable(socket: socketPath, reason: String(cString: strerror(errno)))
                }
                break
            }
            var goAway: SidecarError?
            decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { event in
                guard goAway == nil else { return }
                switch event {
                case .frame(let body):
                    do {
                        goAway = dispatch(try ServerFrame(frameBody: body))
                    } catch {
                        goAway = SidecarError(.internal, "the daemon sent a malformed frame: \(error)")
                    }
                case .oversized(let length, _):
                    goAway = SidecarError(.internal, "the daemon sent a frame of \(length) bytes")
                }
            }
            if let goAway {
                ending = goAway
                break reading
            }
        }
        let orphans = state.withLock { state -> [Pending] in
            state.closedError = ending
            let pending = Array(state.pending.values)
            state.pending.removeAll()
            return pending
        }
        writeLock.withLock { closed in
            Glibc.close(fd)
            closed = true
        }
        for pending in orphans { pending.fail(ending) }
    }

    /// Handles one frame from the daemon; returns the error that ends the
    /// connection, if it does.
    private func dispatch(_ frame: ServerFrame) -> SidecarError? {
        switch frame.kind {
        case .helloAck:
            state.withLock {
                $0.serverMaxMessageBytes = Int(frame.maxMessageBytes)
                $0.server = ServerInfo(
                    version: frame.serverVersion, protocolVersion: frame.protocolVersion, maxMessageBytes: frame.maxMessageBytes,
                    maxInflightCalls: frame.maxInflightCalls)
            }
        case .reply:
            guard let pending = state.withLock({ $0.pending.removeValue(forKey: frame.callID) }) else { return nil }
            switch pending {
            case .unary(let continuation):
                if frame.statusCode == .ok {
                    continuation.resume(returning: frame.payload)
                } else {
                    continuation.resume(throwing: SidecarError(replyCode: frame.statusCode, message: frame.statusMessage, payload: frame.payload))
                }
            case .stream(let continuation):
                if frame.statusCode == .ok {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: SidecarError(replyCode: frame.statusCode, message: frame.statusMessage, payload: frame.payload))
                }
            }
        case .streamMessage:
            if case .stream(let continuation) = state.withLock({ $0.pending[frame.callID] }) {
                continuation.yield(frame.payload)
            }
        case .goAway:
            return SidecarError(frame.statusCode, frame.statusMessage)
        case .unspecified:
            break
        }
        return nil
    }
}
