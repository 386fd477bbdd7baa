import Foundation
import Glibc

/// Blobs whose sha256 has been checked, by digest, with the file's identity
/// at the time (device, inode, size, mtime, ctime): while that is unchanged
/// the blob is not hashed again. The ctime is what no writer can set back:
/// a write that keeps the size and restores the mtime still changes it.
/// Only damage beneath the file system (a flipped bit on the disk) keeps the
/// stamp, and a scrub finds that. Shared by pool threads, hence the lock.
public final class VerifiedBlobs: @unchecked Sendable {
    struct Stamp: Equatable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modifiedNanoseconds: Int64
        let changedNanoseconds: Int64
    }

    private let lock = NSLock()
    private var stamps: [String: Stamp] = [:]
    /// Bytes hashed so far (tests read it to see the cache work).
    public private(set) var hashedBytes: Int64 = 0

    public init() {}

    static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return stamp(info)
    }

    static func stamp(_ info: stat) -> Stamp? {
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Stamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            changedNanoseconds: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    }

    func isVerified(_ digest: String, _ stamp: Stamp) -> Bool {
        lock.withLock { stamps[digest] == stamp }
    }

    func record(_ digest: String, _ stamp: Stamp, hashed: Int64) {
        lock.withLock {
            stamps[digest] = stamp
            hashedBytes += hashed
        }
    }

    func forget(_ digest: String) {
        _ = lock.withLock { stamps.removeValue(forKey: digest) }
    }
}
