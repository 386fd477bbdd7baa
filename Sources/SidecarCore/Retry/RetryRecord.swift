/// What the ledger knows of one key: one operation's retries.
public struct RetryRecord: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Retries may be granted.
        case active
        /// A permanent error was reported: every reserve is denied until reset.
        case failed
        /// The policy's cap was reached: every reserve is refused until reset.
        case exhausted
        /// The operation succeeded; kept for history until it expires.
        case succeeded
    }

    public var key: String
    public var policy: String
    public var state: State
    /// Attempts granted so far.
    public var attempts: Int
    /// When the last grant was made, while its outcome is not reported:
    /// a retry in flight, counted against the budget.
    public var inFlightSince: Double?
    public var firstError: String
    public var lastError: String
    /// For `failed`: the classification that made it permanent.
    public var category: String
    public var remedy: String
    public var notBefore: Double
    public var createdAt: Double
    public var updatedAt: Double
    /// The uid of the peer that created the key; nil for a key recorded
    /// before owners were kept.
    public var ownerUID: UInt32?

    public init(key: String, policy: String, now: Double, ownerUID: UInt32? = nil) {
        self.key = key
        self.ownerUID = ownerUID
        self.policy = policy
        state = .active
        attempts = 0
        inFlightSince = nil
        firstError = ""
        lastError = ""
        category = ""
        remedy = ""
        notBefore = 0
        createdAt = now
        updatedAt = now
    }
}

/// The answer to ReserveRetrySlot.
public enum RetryDecision: Sendable, Equatable {
    case granted(attempt: Int, delaySeconds: Double, notBefore: Double)
    case deniedPermanent(category: String, remedy: String)
    case exhausted(attempts: Int, firstError: String, lastError: String)
    case throttled(retryAfterSeconds: Double)
}

public enum RetryLedgerError: Error, Sendable, Equatable {
    case emptyKey
    case unknownPolicy(String, known: [String])
    case unknownKey(String)
    /// The ledger holds `retry.max_keys` keys: a new one is refused.
    case full(maxKeys: Int)
    /// A non-admin asked about a key another uid owns.
    case notOwner(NotOwnerError)
}
