/// The two clocks image work needs: a monotonic one for time-outs, TTLs and
/// back-off, and the wall clock for what is reported or persisted (lease
/// expiry, job end times). Tests pass a fake that they move by hand.
public protocol ImageClock: AnyObject {
    /// Seconds on a clock that never goes back.
    var monotonicSeconds: Double { get }
    var unixMilliseconds: Int64 { get }
}
