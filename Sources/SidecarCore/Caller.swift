/// Who made a call, as the daemon's rules need it: the peer's uid and
/// groups (as the kernel says) and whether the config makes it an admin.
///
/// Records a caller creates (retry keys, leases, corruption streaks) carry
/// its uid as their owner; a non-admin may read and change only what it
/// owns, an admin everything.
public struct Caller: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32
    /// The primary group, then the supplementary ones.
    public var groups: [UInt32]
    public var isAdmin: Bool

    public init(uid: UInt32, groups: [UInt32], isAdmin: Bool) {
        self.uid = uid
        self.groups = groups
        self.isAdmin = isAdmin
    }

    /// An admin with no groups, for code that acts for the daemon itself
    /// (and for tests of rules that do not depend on the caller).
    public static let daemon = Caller(uid: 0, groups: [0], isAdmin: true)

    /// Whether this caller may read or change a record owned by `owner`.
    /// A record from before owners were kept (nil) is anyone's, until it
    /// expires.
    public func mayTouch(ownedBy owner: UInt32?) -> Bool {
        isAdmin || owner == nil || owner == uid
    }

    public var description: String { "uid \(uid)" }
}

/// A non-admin touched a record another uid owns.
public struct NotOwnerError: Error, Sendable, Equatable, CustomStringConvertible {
    public var what: String
    public var owner: UInt32
    public var caller: UInt32

    public init(what: String, owner: UInt32, caller: UInt32) {
        self.what = what
        self.owner = owner
        self.caller = caller
    }

    public var description: String {
        "\(what) belongs to uid \(owner); uid \(caller) may touch only its own (admins: admin_uids, admin_gids)"
    }
}
