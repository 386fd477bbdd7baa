import SidecarCore

/// What the coordinator needs from the file system and SQLite. Both calls
/// block in the real runner, which does them on the thread pool; `done` is
/// called later on the coordinator's thread (never from within the call).
public protocol DatabaseCheckRunner: AnyObject {
    func resolve(_ path: String, roots: [String], _ done: @escaping (DatabasePathResolution) -> Void)
    /// Runs one check; `done` gets the fingerprint taken before it, so a
    /// change during the check makes the next call check again.
    func check(_ job: DbCheckJob, _ done: @escaping (FileFingerprint?, DbCheckResult) -> Void)
}

/// One check to run.
public struct DbCheckJob: Sendable, Equatable {
    public var path: String
    /// The root that holds `path`: the file is opened beneath it.
    public var root: String
    public var mode: DbCheckMode
    public var maxErrors: Int
    public var busyTimeoutMilliseconds: Int32

    public init(path: String, root: String, mode: DbCheckMode, maxErrors: Int, busyTimeoutMilliseconds: Int32) {
        self.path = path
        self.root = root
        self.mode = mode
        self.maxErrors = maxErrors
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
    }
}

/// What the coordinator tells the daemon's event bus.
public struct DatabaseEvent: Sendable, Equatable {
    public var topic: String
    public var subject: String
    public var message: String
    public var attributes: [String: String]
}
