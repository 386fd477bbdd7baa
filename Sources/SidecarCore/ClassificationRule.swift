#if canImport(Glibc)
import Glibc
#endif

/// A rule of the classifier: a case-insensitive substring of the message,
/// and/or an exit code, and/or SQLite result codes, and what a match means.
/// Operators add rules in `[[classify.rule]]`; they are tried before the
/// built-in ones so an operator can override them.
public struct ClassificationRule: Sendable, Equatable {
    public var name: String
    /// Substrings, any of which matches (lowercased when the rule is made).
    public var substrings: [String] {
        didSet { needles = Self.needles(substrings) }
    }
    /// `substrings` as bytes, searched with memmem: Character-wise String
    /// search costs microseconds per rule, and Classify runs every rule.
    private var needles: [[UInt8]]
    public var exitCode: Int32?
    /// Primary SQLite codes; an extended code matches its primary (low byte).
    public var sqlitePrimaryCodes: [Int32]
    public var category: String
    public var permanent: Bool
    /// The remedy; `{image}` is replaced with the image reference found in
    /// the message, when there is one.
    public var remedy: String {
        didSet { remedyParts = remedy.components(separatedByBytesOf: "{image}") }
    }
    /// `remedy` split at `{image}`, once, so a call only joins.
    private(set) var remedyParts: [String]

    public init(
        name: String, substrings: [String] = [], exitCode: Int32? = nil, sqlitePrimaryCodes: [Int32] = [],
        category: String, permanent: Bool, remedy: String
    ) {
        self.name = name
        self.substrings = substrings.map { $0.lowercased() }
        needles = Self.needles(self.substrings)
        self.exitCode = exitCode
        self.sqlitePrimaryCodes = sqlitePrimaryCodes
        self.category = category
        self.permanent = permanent
        self.remedy = remedy
        remedyParts = remedy.components(separatedByBytesOf: "{image}")
    }

    /// A rule with several conditions needs all of them; one with none never matches.
    func matches(lowercasedMessage: [UInt8], report: FailureReport) -> Bool {
        var matchedSomething = false
        if !needles.isEmpty {
            guard needles.contains(where: { Self.contains(lowercasedMessage, $0) }) else { return false }
            matchedSomething = true
        }
        if let exitCode {
            guard report.exitCode == exitCode else { return false }
            matchedSomething = true
        }
        if !sqlitePrimaryCodes.isEmpty {
            guard let code = report.sqliteCode, sqlitePrimaryCodes.contains(code & 0xff) else { return false }
            matchedSomething = true
        }
        return matchedSomething
    }

    private static func needles(_ substrings: [String]) -> [[UInt8]] {
        substrings.map { Array($0.utf8) }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        // memchr for the first byte, memcmp for the rest (memmem is a GNU
        // extension Swift's Glibc module does not show).
        return haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pin in
                let base = hay.baseAddress!
                var start = 0
                while start <= hay.count - pin.count {
                    guard let found = memchr(base + start, Int32(pin[0]), hay.count - pin.count - start + 1) else {
                        return false
                    }
                    if memcmp(found, pin.baseAddress!, pin.count) == 0 { return true }
                    start = base.distance(to: UnsafeRawPointer(found)) + 1
                }
                return false
            }
        }
    }

    public static func == (lhs: ClassificationRule, rhs: ClassificationRule) -> Bool {
        lhs.name == rhs.name && lhs.substrings == rhs.substrings && lhs.exitCode == rhs.exitCode
            && lhs.sqlitePrimaryCodes == rhs.sqlitePrimaryCodes && lhs.category == rhs.category
            && lhs.permanent == rhs.permanent && lhs.remedy == rhs.remedy
    }
}
