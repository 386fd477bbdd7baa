/// What a client that reported a SQLite error should do now (seed 001):
/// go on, exit 75 to be respawned with a fresh mount, or stop and restore.
public struct DbErrorAdvice: Sendable, Equatable {
    public enum Action: String, Sendable {
        /// Keep going: below the threshold.
        case `continue`
        /// The file is fine: exit 75 and be respawned with a fresh mount.
        case exitTempfail = "exit_tempfail"
        /// The file is damaged: respawning will not help.
        case corrupt
    }

    public var action: Action
    public var streak: UInt32
    public var threshold: UInt32
    public var remedy: String
    /// The host-side verdict, when the threshold made the daemon check.
    public var verdict: DbVerdict?

    public init(action: Action, streak: UInt32, threshold: UInt32, remedy: String = "", verdict: DbVerdict? = nil) {
        self.action = action
        self.streak = streak
        self.threshold = threshold
        self.remedy = remedy
        self.verdict = verdict
    }
}
