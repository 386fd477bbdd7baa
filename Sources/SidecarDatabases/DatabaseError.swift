/// Why a database call was refused before any check ran.
public enum DatabaseError: Error, Sendable, Equatable {
    case invalidArgument(String)
    /// The path resolves outside `databases.roots`.
    case outsideRoots(requested: String, resolved: String, roots: [String])
    /// The caller's uid and groups could not read the file themselves.
    case notReadable(path: String, reason: String)
}
