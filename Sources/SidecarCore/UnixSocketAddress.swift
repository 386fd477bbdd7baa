#if canImport(Glibc)
import Glibc
#endif

/// A `sockaddr_un` for a filesystem path, shared by the daemon (probing a
/// socket before taking it over) and the client (connecting).
public enum UnixSocketAddress {
    /// Nil when the path does not fit in `sun_path` (107 bytes and a NUL).
    public static func make(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// `connect(2)` of `fd` to `path`: 0, or -1 with errno set.
    public static func connect(_ fd: Int32, to path: String) -> Int32 {
        guard var address = make(path) else {
            errno = ENAMETOOLONG
            return -1
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}
