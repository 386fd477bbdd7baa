/// A lease: while it holds, nothing the sidecar removes (prune, eviction,
/// repair) touches its target.
public struct LeaseRecord: Sendable, Equatable {
    public var id: String
    /// An image name or ref.
    public var target: String
    /// Who holds it, e.g. "runner-7/task-ebdf2deb".
    public var holder: String
    public var expiresUnixMilliseconds: Int64

    public init(id: String, target: String, holder: String, expiresUnixMilliseconds: Int64) {
        self.id = id
        self.target = target
        self.holder = holder
        self.expiresUnixMilliseconds = expiresUnixMilliseconds
    }
}
