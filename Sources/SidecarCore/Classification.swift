/// What the classifier says about one failure.
public struct Classification: Sendable, Equatable {
    public var category: String
    /// True when repeating the same operation cannot succeed until something
    /// changes (seed 003: `ErrImageNeverPull` retried for two hours).
    public var permanent: Bool
    public var remedy: String
    /// "builtin:<name>", "config:<index>", or "" when no rule matched.
    public var rule: String
    /// When a transient failure is worth trying again, in seconds: the delay
    /// the message itself asks for (`Retry-After: 30`, "try again in 1m30s"),
    /// else the rule's default. Nil for a permanent failure or no advice.
    public var retryAfterSeconds: Double?

    public init(category: String, permanent: Bool, remedy: String, rule: String, retryAfterSeconds: Double? = nil) {
        self.category = category
        self.permanent = permanent
        self.remedy = remedy
        self.rule = rule
        self.retryAfterSeconds = retryAfterSeconds
    }

    public static let unknown = Classification(category: "unknown", permanent: false, remedy: "", rule: "")
}

/// One failure as a client saw it.
public struct FailureReport: Sendable, Hashable {
    public var message: String
    public var exitCode: Int32?
    public var sqliteCode: Int32?
    /// The image reference the failed operation used, as the caller knows
    /// it (its request or its config): what a remedy names. The message is
    /// never searched for one.
    public var image: String?

    public init(message: String, exitCode: Int32? = nil, sqliteCode: Int32? = nil, image: String? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.sqliteCode = sqliteCode
        self.image = image
    }

    public var isEmpty: Bool { message.isEmpty && exitCode == nil && sqliteCode == nil }
}
