import Glibc

/// systemd socket activation (sd_listen_fds): when systemd owns the socket
/// (docs/sidecard.socket), it passes it as fd 3 with LISTEN_PID set to our
/// pid and LISTEN_FDS to 1. The variables are removed so children do not
/// inherit them.
enum SocketActivation {
    static let firstDescriptor: Int32 = 3

    static func inheritedListener() -> Int32? {
        defer {
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
        }
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }), Int32(pidText) == getpid(),
            let countText = getenv("LISTEN_FDS").map({ String(cString: $0) }), let count = Int(countText), count >= 1
        else { return nil }
        let fd = firstDescriptor
        // Ours alone: not inherited by the children the daemon spawns.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }
}
