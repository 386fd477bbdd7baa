import Foundation

/// Another process holding a SQLite file's write lock: a `sqlite3` that
/// runs `BEGIN EXCLUSIVE` and a write, then waits, until `release()`.
/// Ready when `init` returns (the holder said so after taking the lock).
final class SQLiteLockHolder {
    private let process = Process()
    private var released = false

    /// `write`: a statement that changes the file, run inside the lock.
    init(path: String, write: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        // -bail: a failed BEGIN ends it, so "locked" is said only when it is.
        process.arguments = ["-bail", path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // With a busy timeout of its own: another connection's read lock
        // must not make its BEGIN fail at once.
        input.fileHandleForWriting.write(Data("PRAGMA busy_timeout = 5000; BEGIN EXCLUSIVE; \(write); SELECT 'locked';\n".utf8))
        do {
            try Self.waitForLine("locked", from: output)
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    /// Kills the holder, which drops the lock.
    func release() {
        guard !released else { return }
        released = true
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Until the holder prints `line`, at most 10 s.
    private static func waitForLine(_ line: String, from pipe: Pipe) throws {
        let deadline = Date().addingTimeInterval(10)
        var seen = ""
        let fd = pipe.fileHandleForReading.fileDescriptor
        while Date() < deadline && !seen.contains(line) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            seen += String(decoding: buffer.prefix(count), as: UTF8.self)
        }
        if !seen.contains(line) { throw DaemonFailure(message: "the lock holder never said \"\(line)\" (it said \"\(seen)\")") }
    }
}
