#if canImport(Glibc)
import Glibc
#endif

/// What /proc/PID/stat says about a process: enough to tell whether the
/// process a lease names still runs.
public struct ProcessStat: Sendable, Equatable {
    /// Field 3: R, S, D, T, ... and Z (a zombie: it has exited and waits for
    /// its parent to reap it) or X (dead).
    public var state: Character
    /// Field 22: clock ticks after boot.
    public var startTime: UInt64

    /// A zombie or a dead process has ended, even while its pid is still taken.
    public var hasEnded: Bool { state == "Z" || state == "X" }

    public init(state: Character, startTime: UInt64) {
        self.state = state
        self.startTime = startTime
    }

    /// Parses one line of /proc/PID/stat. The command name (field 2) is in
    /// parentheses and may hold spaces and parentheses itself, so the fields
    /// are counted from the last ")".
    public static func parse(_ line: String) -> ProcessStat? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state); field 22 is fields[19].
        guard fields.count > 19, let state = fields[0].first, fields[0].count == 1,
            let startTime = UInt64(fields[19])
        else { return nil }
        return ProcessStat(state: state, startTime: startTime)
    }

    /// Reads /proc/PID/stat; nil when there is no such process (or no /proc).
    /// A small read of kernel memory that never waits on a disk.
    public static func read(pid: Int32) -> ProcessStat? {
        guard pid > 0 else { return nil }
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return parse(String(decoding: buffer[..<count], as: UTF8.self))
    }
}

extension ProcessIdentity {
    /// The identity of the running process `pid`, or nil when none runs.
    public static func of(pid: Int32) -> ProcessIdentity? {
        guard let stat = ProcessStat.read(pid: pid), !stat.hasEnded else { return nil }
        return ProcessIdentity(pid: pid, startTime: stat.startTime)
    }

    /// This process.
    public static func current() -> ProcessIdentity? { of(pid: getpid()) }

    /// True while this very process runs: its pid exists, has not ended, and
    /// started when this identity says (so it is not a reuse of the pid).
    public var isRunning: Bool {
        guard let stat = ProcessStat.read(pid: pid) else { return false }
        return !stat.hasEnded && stat.startTime == startTime
    }
}
