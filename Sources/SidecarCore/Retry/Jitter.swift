/// Where a grant's delay is drawn from, in [0, 1). Seeded once from the
/// system's generator: jitter only has to keep runners out of lockstep, and
/// asking the kernel (getrandom) on every grant was a system call per reserve.
public struct Jitter: Sendable {
    private var state: UInt64
    private let script: (@Sendable () -> Double)?

    /// SplitMix64 from a random seed.
    public static func seeded() -> Jitter {
        var system = SystemRandomNumberGenerator()
        return Jitter(state: system.next(), script: nil)
    }

    /// Draws from `draw` (tests).
    public init(_ draw: @escaping @Sendable () -> Double) {
        self.init(state: 0, script: draw)
    }

    private init(state: UInt64, script: (@Sendable () -> Double)?) {
        self.state = state
        self.script = script
    }

    public mutating func next() -> Double {
        if let script { return script() }
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        // The top 53 bits: every double in [0, 1) a multiple of 2^-53.
        return Double(mixed >> 11) * 0x1p-53
    }
}
