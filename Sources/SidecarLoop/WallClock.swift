import Glibc

/// The time of day, for event stamps and log lines (durations use the
/// loop's monotonic clock instead).
public enum WallClock {
    public static func unixMilliseconds() -> Int64 {
        Int64((unixSeconds() * 1000).rounded(.down))
    }

    public static func unixSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
