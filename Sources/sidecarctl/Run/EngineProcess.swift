import Foundation
import Glibc

/// The engine's command (`docker run ...`) run as this process's child with
/// posix_spawn: stdin and stdout are the wrapper's own; stderr passes
/// through a pipe to the wrapper's stderr as it comes, and its last 64 KiB
/// are kept so a failure can be classified. The status is the shell's: the
/// exit status, or 128 + the signal that killed it.
enum EngineProcess {
    struct Ended: Sendable {
        var status: Int32
        var stderrTail: String
    }

    static let stderrTailBytes = 64 * 1024
    /// How long stderr is still read after the engine exited, for a
    /// descendant of it that holds the pipe open.
    static let drainSeconds = 1.0

    static func run(_ argv: [String], signals: SignalForwarder) async throws -> Ended {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw EngineFailure("pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        // Neither end may leak into the engine (dup2 makes its fd 2 anew).
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do {
            pid = try spawn(argv, stderr: writeEnd, restoring: SignalForwarder.forwarded)
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        close(writeEnd)
        signals.child = pid
        defer { signals.child = nil }
        let tee = StderrTee(fd: readEnd, limit: stderrTailBytes)
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread {
                let status = waitForExit(pid)
                continuation.resume(returning: status)
            }
        }
        let tail = await tee.finish(drainingFor: drainSeconds)
        close(readEnd)
        return Ended(status: status, stderrTail: tail)
    }

    private static func spawn(_ argv: [String], stderr: Int32, restoring signals: [Int32]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The wrapper ignores the signals it forwards (so they reach it as
        // events); the engine must get them with their default meaning, and
        // SIGPIPE too, which the Swift runtime ignores.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in signals + [SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, argv[0], &actions, &attributes, &cArguments, environ)
        guard result == 0 else { throw EngineFailure("cannot start \(argv[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    /// Blocks (on a thread of its own) until the child ends.
    private static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 128 }
        }
        // WIFEXITED: the low 7 bits are 0; WEXITSTATUS is the next byte.
        // Otherwise WTERMSIG is the low 7 bits.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

struct EngineFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Copies the engine's stderr to ours on a thread of its own, keeping the tail.
final class StderrTee: @unchecked Sendable {
    private let fd: Int32
    private let limit: Int
    private let lock = NSLock()
    private var tail: [UInt8] = []
    private var readUntil: Date?
    private let ended = DispatchSemaphore(value: 0)

    init(fd: Int32, limit: Int) {
        self.fd = fd
        self.limit = limit
        Thread.detachNewThread { [self] in copy() }
    }

    /// Once the engine exited: reads what is left (until EOF, at most
    /// `seconds` more), and returns the tail.
    func finish(drainingFor seconds: Double) async -> String {
        lock.withLock { readUntil = Date().addingTimeInterval(seconds) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [ended] in
                ended.wait()
                continuation.resume()
            }
        }
        return lock.withLock { String(decoding: tail, as: UTF8.self) }
    }

    private func copy() {
        defer { ended.signal() }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let until = lock.withLock({ readUntil }), Date() >= until { return }
            var pending = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pending, 1, 100)
            if ready < 0 && errno != EINTR { return }
            if ready <= 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if count <= 0 { return }
            var written = 0
            while written < count {
                let step = buffer[written..<count].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                if step <= 0 { break }
                written += step
            }
            lock.withLock {
                tail.append(contentsOf: buffer[..<count])
                if tail.count > limit { tail.removeFirst(tail.count - limit) }
            }
        }
    }
}
