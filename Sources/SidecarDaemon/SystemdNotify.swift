import Glibc

/// Tells systemd the daemon is ready (Type=notify), when it runs under
/// systemd: a datagram to $NOTIFY_SOCKET. Nothing happens elsewhere.
enum SystemdNotify {
    static func send(_ state: String) {
        guard let raw = getenv("NOTIFY_SOCKET") else { return }
        var path = String(cString: raw)
        guard !path.isEmpty else { return }
        // An abstract socket is written with a leading "@".
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count + 1 < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let start = abstract ? 1 : 0
            raw[0] = 0
            for (index, byte) in bytes.enumerated() { raw[start + index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 1 : 1))
        _ = state.withCString { message in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, message, strlen(message), 0, $0, length)
                }
            }
        }
    }
}
