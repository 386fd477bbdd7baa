/// Seed 001: inside a container SQLite said `database disk image is
/// malformed` forever while the file on the host was fine (a torn page
/// cache on a bind mount). A client reports each error; a streak of them
/// per (owner uid, client, file), reset by a success or by any other error, decides
/// when the sidecar checks the file itself. Pure: time is passed in.
public struct CorruptionStreaks: Sendable {
    public enum Report: Sendable, Equatable {
        case corruption
        case otherError
        case success
    }

    private struct Key: Hashable, Sendable {
        /// The reporting peer's uid: a client id is a name any peer may
        /// pick, so another uid's reports never reset or grow this streak.
        let owner: UInt32
        let client: String
        let path: String
    }

    private struct Streak: Sendable {
        var count: Int
        var lastSeen: Double
    }

    private var streaks: [Key: Streak] = [:]
    public var threshold: Int

    public init(threshold: Int) {
        self.threshold = threshold
    }

    /// Records a report; returns the streak after it (0 after a reset).
    public mutating func record(_ report: Report, client: String, path: String, owner: UInt32 = 0, now: Double) -> Int {
        let key = Key(owner: owner, client: client, path: path)
        switch report {
        case .corruption:
            var streak = streaks[key] ?? Streak(count: 0, lastSeen: now)
            streak.count += 1
            streak.lastSeen = now
            streaks[key] = streak
            return streak.count
        case .otherError, .success:
            streaks[key] = nil
            return 0
        }
    }

    /// Forgets clients not heard from for `idleSeconds`; returns how many.
    @discardableResult
    public mutating func forgetIdle(now: Double, idleSeconds: Double) -> Int {
        let before = streaks.count
        streaks = streaks.filter { now - $0.value.lastSeen < idleSeconds }
        return before - streaks.count
    }

    public var trackedCount: Int { streaks.count }
}
