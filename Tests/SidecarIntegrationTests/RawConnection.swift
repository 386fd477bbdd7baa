import Foundation
import SidecarCore
import SidecarWire

/// A client connection that speaks bytes, for tests that break the protocol
/// on purpose or need to see exactly what the daemon sends.
final class RawConnection {
    let fd: Int32
    private var decoder = FrameDecoder(maxBodyBytes: 64 * 1024 * 1024)
    private var frames: [ServerFrame] = []
    private(set) var sawEndOfStream = false

    init(socketPath: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        if UnixSocketAddress.connect(fd, to: socketPath) != 0 {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw DaemonFailure(message: "connect \(socketPath): \(reason)")
        }
    }

    /// Connects and says HELLO, reading the HELLO_ACK.
    static func greeted(socketPath: String) throws -> RawConnection {
        let connection = try RawConnection(socketPath: socketPath)
        connection.send(ClientFrame.hello(protocolVersion: 1, clientName: "raw-test"))
        let ack = try connection.readFrame()
        guard ack.kind == .helloAck else { throw DaemonFailure(message: "expected HELLO_ACK, got \(ack)") }
        return connection
    }

    func send(_ frame: ClientFrame) {
        sendBytes(frame.frameBytes())
    }

    func sendBytes(_ bytes: [UInt8]) {
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let sent = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return }
                offset += sent
            }
        }
    }

    /// The next frame, waiting up to `timeout`; throws on EOF or time-out.
    func readFrame(timeout: TimeInterval = 5) throws -> ServerFrame {
        let deadline = Date().addingTimeInterval(timeout)
        while frames.isEmpty {
            guard !sawEndOfStream else { throw DaemonFailure(message: "the daemon closed the connection") }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw DaemonFailure(message: "no frame within \(timeout) s") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000) + 1) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 {
                sawEndOfStream = true
                continue
            }
            try buffer[0..<count].withUnsafeBytes { raw in
                try decoder.feed(raw) { event in
                    guard case .frame(let body) = event else { throw DaemonFailure(message: "oversized frame from the daemon") }
                    frames.append(try ServerFrame(frameBody: body))
                }
            }
        }
        return frames.removeFirst()
    }

    /// True once the daemon has closed the connection (within `timeout`).
    func waitForClose(timeout: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !sawEndOfStream && Date() < deadline {
            if (try? readFrame(timeout: max(0.01, deadline.timeIntervalSinceNow))) == nil, !sawEndOfStream {
                continue
            }
        }
        return sawEndOfStream
    }

    /// Says no more will be sent (SHUT_WR); answers can still be read.
    func shutdownWrite() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    private var isClosed = false

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    deinit {
        close()
    }
}
