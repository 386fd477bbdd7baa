import SidecarImages
import SidecarLoop

/// The real clocks for image work: libuv's monotonic one and the wall clock.
final class DaemonImageClock: ImageClock {
    var monotonicSeconds: Double { Double(EventLoop.monotonicNanoseconds()) / 1e9 }
    var unixMilliseconds: Int64 { WallClock.unixMilliseconds() }
}
