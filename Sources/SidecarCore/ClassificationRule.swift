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
    /// The remedy; `{image}` is replaced with the image reference found in
    /// the message, when there is one.
    public var remedy: String

    public init(
        name: String, substrings: [String] = [], exitCode: Int32? = nil, sqlitePrimaryCodes: [Int32] = [],
        category: String, permanent: Bool, remedy: String
    ) {
        self.name = name
        self.substrings = substrings.map { $0.lowercased() }
        self.exitCode = exitCode
        self.sqlitePrimaryCodes = sqlitePrimaryCodes
        self.category = category
        self.permanent = permanent
        self.remedy = remedy
    }
}
