/// One process, for as long as it lives: its pid and its start time (field
/// 22 of /proc/PID/stat, clock ticks after boot). A pid alone is not enough,
/// since the kernel hands it to another process once this one is gone; the
/// pair never names two processes.
public struct ProcessIdentity: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var startTime: UInt64

    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    public var description: String { "pid \(pid) (start time \(startTime))" }
}
