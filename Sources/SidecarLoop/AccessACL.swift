import CSidecarShims
import Glibc

/// A file's POSIX access ACL as the kernel stores it (the bytes of the
/// "system.posix_acl_access" attribute), for code that judges who may read
/// the file.
public enum AccessACL {
    /// nil when the file has none beyond its mode, or it cannot be read.
    public static func bytes(of path: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4 + 8 * 32)
        var length = sidecar_access_acl(path, &buffer, UInt(buffer.count))
        if length < 0 && errno == ERANGE {
            let needed = sidecar_access_acl(path, nil, 0)
            guard needed > 0 else { return nil }
            buffer = [UInt8](repeating: 0, count: needed)
            length = sidecar_access_acl(path, &buffer, UInt(buffer.count))
        }
        return length > 0 ? Array(buffer.prefix(length)) : nil
    }
}
