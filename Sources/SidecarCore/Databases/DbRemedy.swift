/// The remedies for a database found damaged on the host, in one wording
/// for the daemon's answers and the CLI's messages (seed 001: respawning
/// does not mend a file that is really corrupt).
public enum DbRemedy {
    /// `finding`: the check's first message, or the verdict.
    public static func restore(_ path: String, finding: String) -> String {
        "\(path) is damaged on the host too (\(finding)); respawning will not help. Restore it from a backup, or salvage it: "
            + "sqlite3 \(path) .recover | sqlite3 \(path).recovered"
    }
}
