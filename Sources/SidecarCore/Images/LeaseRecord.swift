/// A lease: while it holds, nothing the sidecar removes (prune, eviction,
/// repair) touches its target.
public struct LeaseRecord: Sendable, Equatable {
    /// `expiresUnixMilliseconds` of a lease with no time limit: one bound to
    /// a process, taken without a ttl, ends only when the process does.
    public static let noExpiry = Int64.max

    public var id: String
    /// An image name or ref.
    public var target: String
    /// Who holds it, e.g. "runner-7/task-ebdf2deb".
    public var holder: String
    public var expiresUnixMilliseconds: Int64
    /// The process the lease ends with, if it is bound to one.
    public var holderProcess: ProcessIdentity?
    /// The uid of the peer that took it; nil for a lease from before owners
    /// were kept.
    public var ownerUID: UInt32?

    public init(
        id: String, target: String, holder: String, expiresUnixMilliseconds: Int64, holderProcess: ProcessIdentity? = nil,
        ownerUID: UInt32? = nil
    ) {
        self.ownerUID = ownerUID
        self.id = id
        self.target = target
        self.holder = holder
        self.expiresUnixMilliseconds = expiresUnixMilliseconds
        self.holderProcess = holderProcess
    }

    public var expiresByTime: Bool { expiresUnixMilliseconds != Self.noExpiry }
}
