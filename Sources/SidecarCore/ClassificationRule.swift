/// A rule of the classifier: a case-insensitive substring of the message,
/// and/or an exit code, and/or SQLite result codes, and what a match means.
/// Operators add rules in `[[classify.rule]]`; they are tried before the
/// built-in ones so an operator can override them. The classifier prepares
/// each rule once (`PreparedRule`) for matching.
public struct ClassificationRule: Sendable, Equatable {
    public var name: String
    /// Substrings, any of which matches (lowercased when the rule is made).
    public var substrings: [String]
    public var exitCode: Int32?
    /// Primary SQLite codes; an extended code matches its primary (low byte).
    public var sqlitePrimaryCodes: [Int32]
    public var category: String
    public var permanent: Bool
    /// The remedy (`RemedyTemplate`): `{image}` is the reference the caller
    /// gave with the failure ("the image" without one), `{image|words}`
    /// says `words` without one. Never filled from the message.
    public var remedy: String
    /// How long to wait before trying again when the message names no delay
    /// of its own; nil: no advice. Ignored for a permanent rule.
    public var retryAfterSeconds: Double?

    public init(
        name: String, substrings: [String] = [], exitCode: Int32? = nil, sqlitePrimaryCodes: [Int32] = [],
        category: String, permanent: Bool, remedy: String, retryAfterSeconds: Double? = nil
    ) {
        self.name = name
        self.substrings = substrings.map { $0.lowercased() }
        self.exitCode = exitCode
        self.sqlitePrimaryCodes = sqlitePrimaryCodes
        self.category = category
        self.permanent = permanent
        self.remedy = remedy
        self.retryAfterSeconds = permanent ? nil : retryAfterSeconds
    }
}
