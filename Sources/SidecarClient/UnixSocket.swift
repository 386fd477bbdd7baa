import Glibc
import SidecarCore

/// Blocking Unix socket calls for the client: connect, send all, receive.
enum UnixSocket {
    enum ConnectFailure: Error {
        /// Worth retrying: no socket yet, or nobody listening yet.
        case notYet(String)
        case fatal(String)
    }

    static func connect(path: String) throws(ConnectFailure) -> Int32 {
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard bytes.count < capacity else { throw .fatal("socket path is longer than \(capacity - 1) bytes") }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .fatal(String(cString: strerror(errno))) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(fd)
            let reason = String(cString: strerror(code))
            switch code {
            case ENOENT, ECONNREFUSED, EAGAIN: throw .notYet(reason)
            default: throw .fatal(reason)
            }
        }
        return fd
    }

    /// Writes all of `bytes`; false if the connection is gone.
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += sent
            }
            return true
        }
    }
}
