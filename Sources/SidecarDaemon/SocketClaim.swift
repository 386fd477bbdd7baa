import Glibc
import SidecarCore

/// Makes sure this daemon alone serves the socket path: takes an exclusive
/// lock on `<socket>.lock` (held until exit), refuses when another daemon
/// answers on the path, and removes a stale socket file left by a crash.
struct SocketClaim {
    /// Why the daemon cannot start on this socket or state directory.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    let socketPath: String
    let lockFD: Int32

    static func claim(_ socketPath: String) throws -> SocketClaim {
        try createParentDirectory(of: socketPath)
        let lockPath = socketPath + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Refusal(description: "cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = readPID(fd)
            close(fd)
            throw Refusal(description: "another sidecard\(holder.map { " (pid \($0))" } ?? "") holds \(lockPath); "
                + "it serves \(socketPath)")
        }
        // The lock is ours, so whatever still answers on the path is not a
        // sidecard of this lock, but it is alive: do not steal its socket.
        var status = stat()
        if lstat(socketPath, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFSOCK else {
                close(fd)
                throw Refusal(description: "\(socketPath) exists and is not a socket; refusing to replace it")
            }
            if answers(socketPath) {
                close(fd)
                throw Refusal(description: "a live process answers on \(socketPath); refusing to replace it")
            }
            unlink(socketPath)
        }
        ftruncate(fd, 0)
        let pidText = "\(getpid())\n"
        _ = pidText.withCString { write(fd, $0, strlen($0)) }
        return SocketClaim(socketPath: socketPath, lockFD: fd)
    }

    /// Removes the socket file and drops the lock.
    func release() {
        unlink(socketPath)
        close(lockFD)
    }

    private static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let result = UnixSocketAddress.connect(fd, to: path)
        return result == 0
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, 31, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).filter { !$0.isWhitespace })
    }

    private static func createParentDirectory(of path: String) throws {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        try Directories.create(String(path[..<slash]), mode: 0o755)
    }
}

enum Directories {
    /// `mkdir -p` with `mode` for the folders it creates.
    static func create(_ path: String, mode: mode_t) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw SocketClaim.Refusal(description: "cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw SocketClaim.Refusal(description: "\(path) is not a directory")
        }
    }
}
