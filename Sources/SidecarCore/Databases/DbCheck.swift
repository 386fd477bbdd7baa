/// The verdict of a host-side SQLite check (DESIGN.md 4.2).
public enum DbVerdict: String, Sendable, CaseIterable {
    case ok
    case corrupt
    case notADatabase = "not_a_database"
    case missing
    case busy
    case outsideRoots = "outside_roots"
    /// The daemon may not read the file: nothing is known of its content.
    case unreadable
}

public enum DbCheckMode: String, Sendable {
    /// PRAGMA quick_check: O(N), skips index-to-table cross checks.
    case quick
    /// PRAGMA integrity_check: also checks that indexes match their tables.
    case full
}

/// What one check found.
public struct DbCheckResult: Sendable, Equatable {
    public var verdict: DbVerdict
    /// The first problems SQLite reported, or why the file is not usable.
    public var messages: [String]
    public var checkSeconds: Double

    public init(verdict: DbVerdict, messages: [String] = [], checkSeconds: Double = 0) {
        self.verdict = verdict
        self.messages = messages
        self.checkSeconds = checkSeconds
    }
}

/// Identity and state of a database file and its WAL: while neither changes,
/// a check's result still holds (device, inode, size, mtime of both).
public struct FileFingerprint: Sendable, Equatable, Hashable {
    public struct Stat: Sendable, Equatable, Hashable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64
        public var modifiedNanoseconds: Int64

        public init(device: UInt64, inode: UInt64, size: Int64, modifiedNanoseconds: Int64) {
            self.device = device
            self.inode = inode
            self.size = size
            self.modifiedNanoseconds = modifiedNanoseconds
        }
    }

    public var database: Stat
    /// Nil when there is no -wal file.
    public var wal: Stat?

    public init(database: Stat, wal: Stat?) {
        self.database = database
        self.wal = wal
    }
}

/// The configured database roots, resolved: a path is inside when it is a
/// root or below one. A root-prefix trick (`/data-evil` for root `/data`)
/// is outside.
public struct DatabaseRoots: Sendable, Equatable {
    public let roots: [String]

    public init(resolvedRoots: [String]) {
        roots = resolvedRoots.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    public func contains(resolvedPath path: String) -> Bool {
        root(containing: path) != nil
    }

    /// The deepest root that holds `path`.
    public func root(containing path: String) -> String? {
        roots.filter { root in root == "/" || path == root || path.hasPrefix(root + "/") }.max { $0.count < $1.count }
    }
}
