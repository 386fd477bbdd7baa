import CLibUV
import Glibc

/// A listening TCP socket on the loop (the metrics endpoint). Each accepted
/// connection is handed to `onConnection` as a `LoopStream` not reading yet.
public final class TCPListener {
    public var onConnection: ((LoopStream) -> Void)?
    public var onAcceptError: ((LoopError) -> Void)?

    private let raw: UnsafeMutablePointer<uv_tcp_t>
    private let loop: EventLoop
    /// The port bound: the one asked for, or the kernel's pick for 0.
    public private(set) var port: UInt16 = 0
    private var closed = false

    /// `host` is a numeric IPv4 or IPv6 address ("127.0.0.1", "::1").
    public init(loop: EventLoop, host: String, port: UInt16, backlog: Int32 = 128) throws {
        self.loop = loop
        raw = .allocate(capacity: 1)
        do {
            try uvCheck(uv_tcp_init(loop.raw, raw), "uv_tcp_init")
        } catch {
            HandleLifetime.discard(raw)
            throw error
        }
        HandleLifetime.attach(self, to: raw)
        do {
            var address = sockaddr_storage()
            try withUnsafeMutableBytes(of: &address) { bytes in
                let base = bytes.baseAddress!
                if host.contains(":") {
                    try uvCheck(uv_ip6_addr(host, Int32(port), base.assumingMemoryBound(to: sockaddr_in6.self)), "address \(host)")
                } else {
                    try uvCheck(uv_ip4_addr(host, Int32(port), base.assumingMemoryBound(to: sockaddr_in.self)), "address \(host)")
                }
                try uvCheck(uv_tcp_bind(raw, base.assumingMemoryBound(to: sockaddr.self), 0), "bind \(host):\(port)")
            }
            try uvCheck(uv_listen(UnsafeMutablePointer(OpaquePointer(raw)), backlog) { server, status in
                HandleLifetime.owner(TCPListener.self, of: UnsafeMutableRawPointer(server)).accept(status: status)
            }, "listen \(host):\(port)")
            self.port = try boundPort()
        } catch {
            close()
            throw error
        }
    }

    private func boundPort() throws -> UInt16 {
        var address = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        try withUnsafeMutableBytes(of: &address) { bytes in
            try uvCheck(uv_tcp_getsockname(raw, bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length), "getsockname")
        }
        return withUnsafeBytes(of: &address) { bytes in
            // sin_port and sin6_port sit at the same offset, in network order.
            UInt16(bigEndian: bytes.load(fromByteOffset: 2, as: UInt16.self))
        }
    }

    private func accept(status: Int32) {
        do {
            onConnection?(try LoopStream.accepted(status: status, from: UnsafeMutablePointer(OpaquePointer(raw)), loop: loop, kind: .tcp))
        } catch let error as LoopError {
            onAcceptError?(error)
        } catch {}
    }

    public func close() {
        guard !closed else { return }
        closed = true
        onConnection = nil
        HandleLifetime.close(raw)
    }
}
