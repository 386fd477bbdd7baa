/// A configuration the daemon refuses: which file, which key, and why.
/// `sidecard` prints it and exits 78 (EX_CONFIG); a reload keeps the old config.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, or "<flags>" / "<defaults>" when no file is involved.
    public var file: String
    /// The dotted key, e.g. "limits.max_connections"; empty for a syntax error.
    public var key: String
    public var reason: String

    public init(file: String, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        key.isEmpty ? "config \(file): \(reason)" : "config \(file): \(key): \(reason)"
    }
}
