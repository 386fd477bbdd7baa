import CSQLite
import CSQLiteShims
import Glibc
import SidecarCore

/// Checks a SQLite file the way `PRAGMA quick_check` / `integrity_check`
/// does, read-only and without creating anything: not the database, not a
/// -wal or -shm it does not already have. Blocking: run it on the thread pool.
public enum DatabaseChecker {
    static let header = Array("SQLite format 3\0".utf8)

    /// Checks the file at `path` (resolved, at or below `root`), opened once
    /// beneath `root` without following links (`PinnedDatabaseFile`).
    public static func check(
        path: String, root: String, mode: DbCheckMode, maxErrors: Int, busyTimeoutMilliseconds: Int32
    ) -> DbCheckResult {
        let started = monotonicSeconds()
        var result: DbCheckResult
        switch PinnedDatabaseFile.open(path, root: root) {
        case .failure(.verdict(let refused)):
            result = refused
        case .success(let pinned):
            defer { pinned.close() }
            result = run(pinned, path: path, mode: mode, maxErrors: maxErrors, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        }
        result.checkSeconds = monotonicSeconds() - started
        return result
    }

    private static func run(
        _ pinned: PinnedDatabaseFile, path: String, mode: DbCheckMode, maxErrors: Int, busyTimeoutMilliseconds: Int32
    ) -> DbCheckResult {
        guard pinned.size > 0 else {
            // SQLite would open it as an empty database, but a database the
            // client expects to hold tables is gone.
            return DbCheckResult(verdict: .notADatabase, messages: ["\(path) is empty (0 bytes): no SQLite header"])
        }
        guard let firstBytes = pinned.prefix(100) else {
            let error = errno
            return DbCheckResult(verdict: .unreadable, messages: ["cannot read \(path): \(String(cString: strerror(error))) (errno \(error))"])
        }
        guard firstBytes.count >= 100, Array(firstBytes.prefix(16)) == header else {
            return DbCheckResult(verdict: .notADatabase, messages: ["\(path) has no SQLite header (file is not a database)"])
        }
        let hardened = sidecar_sqlite_harden()
        guard hardened == SQLITE_OK else {
            return DbCheckResult(verdict: .busy, messages: ["cannot set up SQLite to read \(path): \(String(cString: sqlite3_errstr(hardened)))"])
        }
        // A WAL database without a -wal file was closed cleanly: open it
        // immutable, or SQLite would create a -shm next to it.
        let walMode = firstBytes[18] == 2 || firstBytes[19] == 2
        let uri = "file:\(escape(pinned.sqlitePath))?mode=ro&vfs=\(SIDECAR_PINNED_VFS)" + (walMode && !pinned.hasWAL ? "&immutable=1" : "")

        var handle: OpaquePointer?
        let opened = sqlite3_open_v2(uri, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(handle) }
        guard opened == SQLITE_OK else { return failure(opened, handle, path) }
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)

        let pragma = mode == .full ? "integrity_check" : "quick_check"
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(handle, "PRAGMA \(pragma)(\(max(1, maxErrors)))", -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        guard prepared == SQLITE_OK else { return failure(prepared, handle, path) }
        var rows: [String] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { return failure(step, handle, path) }
            if let text = sqlite3_column_text(statement, 0) { rows.append(String(cString: text)) }
        }
        if rows == ["ok"] { return DbCheckResult(verdict: .ok) }
        return DbCheckResult(verdict: .corrupt, messages: rows.isEmpty ? ["\(pragma) returned nothing"] : rows)
    }

    /// Maps an error from opening or checking to a verdict.
    private static func failure(_ code: Int32, _ handle: OpaquePointer?, _ path: String) -> DbCheckResult {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return DbCheckResult(verdict: .busy, messages: ["\(message) (another connection holds a lock)"])
        case SQLITE_NOTADB:
            return DbCheckResult(verdict: .notADatabase, messages: [message])
        case SQLITE_CANTOPEN:
            // The file was pinned a moment ago: it was replaced (by something
            // that is not a regular file, or removed) since.
            return DbCheckResult(verdict: .busy, messages: ["\(path) changed while it was checked (\(message)); ask again"])
        default:
            // SQLITE_CORRUPT, and I/O errors from reading past a truncation.
            return DbCheckResult(verdict: .corrupt, messages: ["\(message) (SQLite code \(code))"])
        }
    }

    /// The fingerprint of a database file and its WAL, or nil if the file is not there.
    public static func fingerprint(path: String) -> FileFingerprint? {
        guard let database = statOf(path) else { return nil }
        return FileFingerprint(database: database, wal: statOf(path + "-wal"))
    }

    private static func statOf(_ path: String) -> FileFingerprint.Stat? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return FileFingerprint.Stat(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modifiedNanoseconds: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec))
    }

    /// Percent-escapes what a SQLite URI path may not hold literally.
    private static func escape(_ path: String) -> String {
        var escaped = ""
        for character in path {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3f"
            case "#": escaped += "%23"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
