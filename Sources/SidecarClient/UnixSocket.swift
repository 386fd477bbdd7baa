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
        guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
            throw .fatal("socket path is longer than \(MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1) bytes")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .fatal(String(cString: strerror(errno))) }
        let result = UnixSocketAddress.connect(fd, to: path)
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
