import Glibc
import SidecarCore
import SidecarDatabases
import SidecarStore

/// Where a client's database path really points, found on the thread pool
/// (realpath and stat touch the file system). Symlinks and ".." are
/// resolved before the roots are checked, so neither can lead outside them.
enum DatabasePaths {
    static func resolve(_ path: String, roots: [String]) -> DatabasePathResolution {
        guard let resolved = resolvePath(path) else { return .notUTF8 }
        let resolvedRoots = DatabaseRoots(resolvedRoots: roots.compactMap(resolvePath))
        guard let root = resolvedRoots.root(containing: resolved) else {
            return .outside(resolved: resolved, roots: resolvedRoots.roots)
        }
        var status = stat()
        let isDirectory = stat(resolved, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
        return .inside(
            resolved: resolved, root: root, fingerprint: DatabaseChecker.fingerprint(path: resolved), isDirectory: isDirectory,
            access: PathAccessReader.read(resolved))
    }

    /// realpath(3) of the longest existing prefix, with the rest of the path
    /// normalized lexically (a file that does not exist yet is still placed);
    /// nil when a link leads to a name that is not UTF-8, which a String
    /// could only hold repaired, naming another file.
    static func resolvePath(_ path: String) -> String? {
        var existing = path
        var rest: [Substring] = []
        while true {
            if let real = realpath(existing, nil) {
                defer { free(real) }
                guard let text = String(validatingCString: real) else { return nil }
                return normalize(text, appending: rest)
            }
            guard let slash = existing.lastIndex(of: "/"), existing != "/" else { return normalize("/", appending: rest) }
            rest.insert(existing[existing.index(after: slash)...], at: 0)
            existing = slash == existing.startIndex ? "/" : String(existing[..<slash])
        }
    }

    private static func normalize(_ base: String, appending rest: [Substring]) -> String {
        var parts = base.split(separator: "/")
        for part in rest {
            switch part {
            case "", ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
