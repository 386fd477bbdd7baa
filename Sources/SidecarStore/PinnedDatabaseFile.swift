import Glibc
import CSQLiteShims
import SidecarCore

/// A client's database file opened once, beneath the root that holds it,
/// without following any link: every folder on the way is opened by its
/// descriptor with O_NOFOLLOW, so a folder swapped for a symlink while the
/// check runs fails the walk instead of leading outside the root; the file
/// itself is opened without blocking (a FIFO cannot hold the thread) and
/// must be a regular file. SQLite then reads it through the folder's
/// descriptor (`sqlitePath`, opened with the pinned VFS), so the file that
/// was checked and the file that is read cannot differ by name.
struct PinnedDatabaseFile {
    /// The folder holding the file (O_PATH).
    let folder: Int32
    /// The file itself, read-only.
    let file: Int32
    let name: String
    /// Its size when it was opened (the `fstat` that proved it a regular file).
    let size: Int64

    /// What `open` could not pin, as the verdict it means.
    enum Refusal: Error {
        case verdict(DbCheckResult)
    }

    /// `path`: resolved (no symlink, ".." or "." in it), at or below `root`.
    static func open(_ path: String, root: String) -> Result<PinnedDatabaseFile, Refusal> {
        let below = root == "/" ? path.dropFirst() : path.dropFirst(root.count)
        let components = below.split(separator: "/").map(String.init)
        guard let name = components.last, path.hasPrefix(root) else {
            return .failure(.verdict(DbCheckResult(verdict: .notADatabase, messages: ["\(path) is a directory"])))
        }
        var folder = Glibc.open(root, sidecar_o_path() | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return .failure(refusal(errno, path: path, what: "its root \(root)")) }
        for component in components.dropLast() {
            let next = openat(folder, component, sidecar_o_path() | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let failure = errno
            Glibc.close(folder)
            guard next >= 0 else { return .failure(refusal(failure, path: path, what: "the folder \(component)")) }
            folder = next
        }
        let file = openat(folder, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)
        guard file >= 0 else {
            let failure = errno
            Glibc.close(folder)
            return .failure(refusal(failure, path: path, what: "the file"))
        }
        var status = stat()
        guard fstat(file, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            let isDirectory = status.st_mode & S_IFMT == S_IFDIR
            Glibc.close(file)
            Glibc.close(folder)
            return .failure(.verdict(DbCheckResult(
                verdict: .notADatabase, messages: [isDirectory ? "\(path) is a directory" : "\(path) is not a regular file"])))
        }
        return .success(PinnedDatabaseFile(folder: folder, file: file, name: name, size: Int64(status.st_size)))
    }

    /// Where SQLite finds the file through the pinned folder (pinned VFS only).
    var sqlitePath: String { "/proc/self/fd/\(folder)/\(name)" }

    /// Whether a -wal file sits beside the database (not followed if a link).
    var hasWAL: Bool {
        var status = stat()
        return fstatat(folder, name + "-wal", &status, AT_SYMLINK_NOFOLLOW) == 0
    }

    /// The first `count` bytes, or nil if they cannot be read.
    func prefix(_ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = pread(file, &buffer, count, 0)
        guard got >= 0 else { return nil }
        return Array(buffer.prefix(got))
    }

    func close() {
        Glibc.close(file)
        Glibc.close(folder)
    }

    private static func refusal(_ error: Int32, path: String, what: String) -> Refusal {
        let reason = String(cString: strerror(error))
        switch error {
        case ENOENT:
            return .verdict(DbCheckResult(verdict: .missing, messages: ["\(path): \(reason)"]))
        case EACCES, EPERM:
            return .verdict(DbCheckResult(
                verdict: .unreadable, messages: ["sidecard may not read \(path) (\(what): \(reason), errno \(error))"]))
        case ELOOP, ENOTDIR, EXDEV:
            // The path was resolved without links a moment ago: one appeared.
            return .verdict(DbCheckResult(
                verdict: .busy, messages: ["\(path) changed while it was checked (\(what): \(reason)); ask again"]))
        default:
            return .verdict(DbCheckResult(verdict: .missing, messages: ["cannot open \(path) (\(what)): \(reason)"]))
        }
    }
}
