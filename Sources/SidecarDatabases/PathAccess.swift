import SidecarCore

/// Who may read a file: the owner, group, mode and POSIX ACL of the file
/// and of every folder above it, gathered by the check runner, so the
/// daemon answers a caller only about files it could read itself (a
/// non-root client must not learn through the daemon whether a 0600 file of
/// root's is a valid database).
public struct PathAccess: Sendable, Equatable {
    /// Ownership and permissions of one file or folder.
    public struct Node: Sendable, Equatable {
        public var path: String
        public var uid: UInt32
        public var gid: UInt32
        /// The permission bits (st_mode & 0o777).
        public var mode: UInt32
        /// The access ACL, when the file has one beyond its mode.
        public var acl: PosixACL?

        public init(path: String, uid: UInt32, gid: UInt32, mode: UInt32, acl: PosixACL? = nil) {
            self.path = path
            self.uid = uid
            self.gid = gid
            self.mode = mode
            self.acl = acl
        }
    }

    /// The folders from "/" down to the file's (or, for a file that does
    /// not exist, down to the deepest one that does).
    public var folders: [Node]
    /// The file itself; nil when it does not exist.
    public var file: Node?

    public init(folders: [Node], file: Node?) {
        self.folders = folders
        self.file = file
    }

    /// Why `caller` could not read the file, or nil when it could. Search
    /// (x) on every folder, then read (r) on the file; uid 0 passes all.
    public func refusal(for caller: Caller) -> String? {
        guard caller.uid != 0 else { return nil }
        for folder in folders where !folder.permits(Permission.search, uid: caller.uid, groups: caller.groups) {
            return "uid \(caller.uid) may not search \(folder.path)"
        }
        if let file, !file.permits(Permission.read, uid: caller.uid, groups: caller.groups) {
            return "uid \(caller.uid) may not read \(file.path)"
        }
        return nil
    }

    enum Permission {
        static let read: UInt16 = 4
        static let search: UInt16 = 1
    }
}

extension PathAccess.Node {
    /// The kernel's check (acl(5), "access check algorithm"), without
    /// capabilities: the owner's bits, else a named user's entry, else the
    /// groups' entries (any that grants), else the others' bits.
    func permits(_ wanted: UInt16, uid: UInt32, groups: [UInt32]) -> Bool {
        let bits = { (shift: UInt32) -> UInt16 in UInt16((mode >> shift) & 7) }
        guard let acl else {
            if uid == self.uid { return bits(6) & wanted == wanted }
            if groups.contains(gid) { return bits(3) & wanted == wanted }
            return bits(0) & wanted == wanted
        }
        if uid == self.uid { return acl.ownerBits & wanted == wanted }
        let mask = acl.mask ?? 7
        if let user = acl.users.first(where: { $0.id == uid }) { return user.bits & mask & wanted == wanted }
        var matchedGroup = false
        for entry in [(id: gid, bits: acl.owningGroupBits)] + acl.groups.map({ (id: $0.id, bits: $0.bits) })
        where groups.contains(entry.id) {
            if entry.bits & mask & wanted == wanted { return true }
            matchedGroup = true
        }
        if matchedGroup { return false }
        return acl.otherBits & wanted == wanted
    }
}

/// A POSIX access ACL as Linux stores it in `system.posix_acl_access`: a
/// version (2), then entries of a tag, permission bits and an id.
public struct PosixACL: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var id: UInt32
        public var bits: UInt16
    }

    public var ownerBits: UInt16
    public var owningGroupBits: UInt16
    public var otherBits: UInt16
    public var mask: UInt16?
    public var users: [Entry]
    public var groups: [Entry]

    private enum Tag {
        static let userObject: UInt16 = 0x01
        static let user: UInt16 = 0x02
        static let groupObject: UInt16 = 0x04
        static let group: UInt16 = 0x08
        static let mask: UInt16 = 0x10
        static let other: UInt16 = 0x20
    }

    /// Parses the xattr's bytes (little-endian); nil when they are not an
    /// ACL of version 2.
    public init?(xattr bytes: [UInt8]) {
        guard bytes.count >= 4, (bytes.count - 4) % 8 == 0, Self.uint32(bytes, 0) == 2 else { return nil }
        var owner: UInt16?, owningGroup: UInt16?, other: UInt16?
        (mask, users, groups) = (nil, [], [])
        for offset in stride(from: 4, to: bytes.count, by: 8) {
            let tag = Self.uint16(bytes, offset)
            let bits = Self.uint16(bytes, offset + 2) & 7
            let id = Self.uint32(bytes, offset + 4)
            switch tag {
            case Tag.userObject: owner = bits
            case Tag.user: users.append(Entry(id: id, bits: bits))
            case Tag.groupObject: owningGroup = bits
            case Tag.group: groups.append(Entry(id: id, bits: bits))
            case Tag.mask: mask = bits
            case Tag.other: other = bits
            default: return nil
            }
        }
        guard let owner, let owningGroup, let other else { return nil }
        (ownerBits, owningGroupBits, otherBits) = (owner, owningGroup, other)
    }

    private static func uint16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    private static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(uint16(bytes, offset)) | UInt32(uint16(bytes, offset + 2)) << 16
    }
}
