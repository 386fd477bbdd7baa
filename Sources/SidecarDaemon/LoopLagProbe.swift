import SidecarLoop

/// Measures how late the loop wakes for a periodic timer. A lag of more
/// than a few milliseconds means something blocked the loop thread.
final class LoopLagProbe {
    static let intervalMilliseconds: UInt64 = 250
    /// The window the maximum is kept over.
    static let windowSamples = 240  // one minute at 250 ms

    private let timer: LoopTimer
    private var expectedNanoseconds: UInt64 = 0
    private var samples: [Double] = []
    private var nextSample = 0
    private(set) var lastMilliseconds = 0.0
    /// The largest lag in the window, kept per tick: Health reads it on
    /// every call.
    private(set) var maxMilliseconds = 0.0

    init(loop: EventLoop) throws {
        timer = try LoopTimer(loop: loop)
        timer.unref()
        expectedNanoseconds = EventLoop.monotonicNanoseconds() + Self.intervalMilliseconds * 1_000_000
        timer.start(after: Self.intervalMilliseconds, repeat: Self.intervalMilliseconds) { [unowned self] in
            self.tick()
        }
    }

    private func tick() {
        let now = EventLoop.monotonicNanoseconds()
        let lag = now > expectedNanoseconds ? Double(now - expectedNanoseconds) / 1e6 : 0
        lastMilliseconds = lag
        if samples.count < Self.windowSamples {
            samples.append(lag)
        } else {
            samples[nextSample] = lag
            nextSample = (nextSample + 1) % Self.windowSamples
        }
        maxMilliseconds = samples.max() ?? 0
        expectedNanoseconds = now + Self.intervalMilliseconds * 1_000_000
    }

    func close() {
        timer.close()
    }
}
