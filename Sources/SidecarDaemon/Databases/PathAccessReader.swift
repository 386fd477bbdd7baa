import Glibc
import SidecarDatabases
import SidecarLoop

/// Reads who may reach a resolved path (owner, group, mode and access ACL
/// of it and of every folder above it), on the thread pool.
enum PathAccessReader {
    static func read(_ resolved: String) -> PathAccess {
        var folders: [PathAccess.Node] = []
        var prefix = ""
        let components = resolved.split(separator: "/")
        guard let root = node("/") else { return PathAccess(folders: [], file: nil) }
        folders.append(root)
        for component in components.dropLast() {
            prefix += "/" + component
            guard let folder = node(prefix) else { return PathAccess(folders: folders, file: nil) }
            folders.append(folder)
        }
        return PathAccess(folders: folders, file: components.isEmpty ? nil : node(resolved))
    }

    private static func node(_ path: String) -> PathAccess.Node? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return PathAccess.Node(
            path: path, uid: status.st_uid, gid: status.st_gid, mode: UInt32(status.st_mode) & 0o777, acl: accessACL(path))
    }

    private static func accessACL(_ path: String) -> PosixACL? {
        AccessACL.bytes(of: path).flatMap(PosixACL.init(xattr:))
    }
}
