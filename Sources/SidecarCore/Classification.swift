/// What the classifier says about one failure.
public struct Classification: Sendable, Equatable {
    public var category: String
    /// True when repeating the same operation cannot succeed until something
    /// changes (seed 003: `ErrImageNeverPull` retried for two hours).
    public var permanent: Bool
    public var remedy: String
    /// "builtin:<name>", "config:<index>", or "" when no rule matched.
    public var rule: String

    public init(category: String, permanent: Bool, remedy: String, rule: String) {
        self.category = category
        self.permanent = permanent
        self.remedy = remedy
        self.rule = rule
    }

    public static let unknown = Classification(category: "unknown", permanent: false, remedy: "", rule: "")
}

/// One failure as a client saw it.
public struct FailureReport: Sendable, Equatable {
    public var message: String
    public var exitCode: Int32?
    public var sqliteCode: Int32?

    public init(message: String, exitCode: Int32? = nil, sqliteCode: Int32? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.sqliteCode = sqliteCode
    }

    public var isEmpty: Bool { message.isEmpty && exitCode == nil && sqliteCode == nil }
}
