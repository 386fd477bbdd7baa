import CSidecarShims
import Glibc
import SidecarCore

/// Tells, on the loop thread, when watched processes end (a lease's holder:
/// a runner, a wrapper, a container's init). Each process gets a pidfd,
/// which becomes readable the moment it exits, reaped or still a zombie.
/// Where the kernel has no pidfd_open (before Linux 5.3, or a seccomp filter
/// refuses it), or `.poll` is asked for, every watched process's
/// /proc/PID/stat is read every `pollMilliseconds` instead. A process is
/// known by its pid and start time, so a pid the kernel gave to another
/// process in the meantime is never taken for it.
public final class ProcessWatcher {
    public enum Method: String, Sendable {
        case pidfd
        case poll
    }

    public static let defaultPollMilliseconds: UInt64 = 500

    /// How processes are watched now; `fallbackReason` says why when it is
    /// `.poll` although `.pidfd` was asked for.
    public private(set) var method: Method
    public private(set) var fallbackReason: String?

    private let loop: EventLoop
    private let pollMilliseconds: UInt64
    private let onEnd: (ProcessIdentity) -> Void
    private var pidfds: [ProcessIdentity: (fd: Int32, poll: LoopPoll)] = [:]
    private var polled: Set<ProcessIdentity> = []
    private let timer: LoopTimer
    private var timerRunning = false
    private var closed = false

    /// `onEnd` runs once per watched process that ends, after its watch is gone.
    public init(
        loop: EventLoop, method: Method, pollMilliseconds: UInt64 = defaultPollMilliseconds,
        onEnd: @escaping (ProcessIdentity) -> Void
    ) throws {
        self.loop = loop
        self.method = method
        self.pollMilliseconds = pollMilliseconds
        self.onEnd = onEnd
        timer = try LoopTimer(loop: loop)
    }

    /// The processes watched now.
    public var watched: Set<ProcessIdentity> { polled.union(pidfds.keys) }

    /// Starts watching `process`; false (and no watch) when it does not run
    /// now: it ended, or its pid names another process. Watching a process
    /// already watched is a no-op that answers true.
    public func watch(_ process: ProcessIdentity) -> Bool {
        precondition(!closed, "watch after close")
        if pidfds[process] != nil || polled.contains(process) { return true }
        if method == .pidfd, let watched = watchWithPidfd(process) { return watched }
        guard process.isRunning else { return false }
        polled.insert(process)
        startPollingIfNeeded()
        return true
    }

    /// Stops watching `process` (its leases are gone); no `onEnd` for it.
    public func unwatch(_ process: ProcessIdentity) {
        if let entry = pidfds.removeValue(forKey: process) { closePidfd(entry) }
        polled.remove(process)
        if polled.isEmpty { stopPolling() }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        for entry in pidfds.values { closePidfd(entry) }
        pidfds = [:]
        polled = []
        timer.close()
    }

    // MARK: pidfd

    /// nil when pidfds cannot be had here (then polling takes over).
    private func watchWithPidfd(_ process: ProcessIdentity) -> Bool? {
        let fd = sidecar_pidfd_open(process.pid)
        if fd < 0 {
            let error = errno
            if error == ESRCH { return false }
            if error == ENOSYS || error == EPERM {
                method = .poll
                fallbackReason = "pidfd_open: \(String(cString: strerror(error)))"
            }
            return nil
        }
        // Checked only now that the pidfd is open: it names whatever process
        // had the pid at that moment, so a start time that still matches
        // means it is the holder, and a zombie counts as ended.
        guard process.isRunning else {
            Glibc.close(fd)
            return false
        }
        let poll: LoopPoll
        do {
            poll = try LoopPoll(loop: loop, fileDescriptor: fd)
        } catch {
            Glibc.close(fd)
            return nil
        }
        pidfds[process] = (fd, poll)
        poll.start(.readable) { [unowned self] _ in
            // Readable, or an error on the descriptor: either way nothing
            // more will come from it, and the process is gone or unknowable.
            guard let entry = pidfds.removeValue(forKey: process) else { return }
            closePidfd(entry)
            onEnd(process)
        }
        return true
    }

    private func closePidfd(_ entry: (fd: Int32, poll: LoopPoll)) {
        // The poll handle leaves epoll in close(); only then may the fd go.
        entry.poll.close()
        Glibc.close(entry.fd)
    }

    // MARK: Polling

    private func startPollingIfNeeded() {
        guard !timerRunning, !polled.isEmpty else { return }
        timerRunning = true
        timer.start(after: pollMilliseconds, repeat: pollMilliseconds) { [unowned self] in checkPolled() }
        timer.unref()
    }

    private func stopPolling() {
        guard timerRunning else { return }
        timerRunning = false
        timer.stop()
    }

    private func checkPolled() {
        let ended = polled.filter { !$0.isRunning }
        for process in ended.sorted(by: { $0.pid < $1.pid }) {
            polled.remove(process)
            onEnd(process)
        }
        if polled.isEmpty { stopPolling() }
    }
}
