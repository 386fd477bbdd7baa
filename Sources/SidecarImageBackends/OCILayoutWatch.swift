import Glibc
import SidecarLoop

/// Keeps the OCI layout backend's "present" true: watches `index.json`, the
/// blob folder and every blob a verified image reaches, and names the refs a
/// change may have broken, at once, so the coordinator checks them again
/// before answering. When it cannot watch (no inotify, the watch limit, a
/// network file system whose other clients raise no events, a watch lost)
/// it says why, and presence falls back to `presence_ttl`. Loop thread only.
final class OCILayoutWatch {
    /// A change may have broken these refs (every ref when `refs` is nil).
    var onChange: ((_ refs: [String]?, _ reason: String) -> Void)?
    /// Why presence is not kept by events now; nil while it is.
    private(set) var unwatchedReason: String?
    var isWatching: Bool { unwatchedReason == nil }

    private let root: String
    private let blobsPath: String
    private let loop: EventLoop
    private let log: (String) -> Void
    private var watcher: FileWatcher?
    private var rootWatch: FileWatcher.Watch?
    private var blobFolderWatch: FileWatcher.Watch?
    private var blobWatches: [String: FileWatcher.Watch] = [:]
    private var digestsByWatch: [FileWatcher.Watch: String] = [:]
    private var blobsByRef: [String: [String]] = [:]
    private var refsByBlob: [String: Set<String>] = [:]

    /// statfs types of file systems whose files change without events here:
    /// NFS, SMB/CIFS (two magics), FUSE, 9p, Ceph, AFS, Lustre, GPFS.
    private static let remoteFileSystems: [Int64: String] = [
        0x6969: "nfs", 0xFF53_4D42: "cifs", 0xFE53_4D42: "smb2", 0x6573_5546: "fuse", 0x0102_1997: "9p",
        0x00C3_6400: "ceph", 0x5346_414F: "afs", 0x0BD0_0BD0: "lustre", 0x4750_4653: "gpfs",
    ]

    init(loop: EventLoop, root: String, blobsPath: String, log: @escaping (String) -> Void) {
        self.loop = loop
        self.root = root
        self.blobsPath = blobsPath
        self.log = log
        unwatchedReason = "not started"
    }

    /// Watches the layout's folders; blobs are added as images verify.
    func start() {
        if let type = FileWatcher.fileSystemType(of: root), let name = Self.remoteFileSystems[type] {
            return giveUp("the layout is on \(name), where other clients' changes raise no events")
        }
        do {
            watcher = try FileWatcher(loop: loop) { [unowned self] in heard($0) }
        } catch {
            return giveUp("no file events (\(error))")
        }
        arm()
    }

    /// Watches the folders, then the blobs of every image known intact.
    private func arm() {
        guard let watcher else { return }
        do {
            rootWatch = try watcher.watch(root, for: .folderEntries, onlyFolder: true)
            blobFolderWatch = try watcher.watch(blobsPath, for: .folderEntries, onlyFolder: true)
        } catch let error as LoopError where error.code == -ENOSPC {
            return giveUp("the inotify watch limit is reached (fs.inotify.max_user_watches)")
        } catch {
            if unwatchedReason != Self.lostReason { log("images: cannot watch the layout (\(error)); trying again after the next check") }
            unwatchedReason = Self.lostReason
            return
        }
        unwatchedReason = nil
        log("images: presence follows the layout's file events")
        for (ref, digests) in blobsByRef { watchBlobs(of: ref, digests) }
    }

    func close() {
        watcher?.close()
        watcher = nil
    }

    /// Reads the kernel's queue now: every change made before this call is
    /// reported before it returns.
    func deliverPending() {
        watcher?.deliverPending()
    }

    /// `ref` verified, reaching `blobs`: a change to any of them breaks it.
    /// Blobs it no longer reaches stop counting it as a user; the others
    /// keep their watches.
    func watch(ref: String, blobs: [String]) {
        let kept = Set(blobs)
        forget(ref: ref, except: kept)
        blobsByRef[ref] = blobs
        for digest in blobs {
            refsByBlob[digest, default: []].insert(ref)
        }
        if unwatchedReason == Self.lostReason { return arm() }
        watchBlobs(of: ref, blobs)
    }

    /// Adds each blob's watch again: on the same inode the kernel answers
    /// the watch it has, on a file renamed over the blob a new one (and
    /// the old inode's is dropped).
    private func watchBlobs(of ref: String, _ blobs: [String]) {
        guard isWatching, let watcher else { return }
        for digest in blobs {
            guard let path = blobPath(digest) else { continue }
            do {
                let watch = try watcher.watch(path, for: .fileContent)
                if let old = blobWatches[digest], old != watch {
                    digestsByWatch[old] = nil
                    watcher.unwatch(old)
                }
                blobWatches[digest] = watch
                digestsByWatch[watch] = digest
            } catch let error as LoopError where error.code == -ENOSPC {
                return giveUp("the inotify watch limit is reached (fs.inotify.max_user_watches)")
            } catch {
                // Gone since it verified: that is a change like any other.
                changed(refs: [ref], "blob \(digest) cannot be watched (\(error))")
            }
        }
    }

    func forget(ref: String, except kept: Set<String> = []) {
        for digest in blobsByRef.removeValue(forKey: ref) ?? [] where !kept.contains(digest) {
            refsByBlob[digest]?.remove(ref)
            guard refsByBlob[digest]?.isEmpty == true else { continue }
            refsByBlob[digest] = nil
            if let watch = blobWatches.removeValue(forKey: digest) {
                digestsByWatch[watch] = nil
                watcher?.unwatch(watch)
            }
        }
    }

    // MARK: Events

    private static let lostReason = "a folder of the layout was removed or moved; watching again after the next check"

    private func heard(_ events: [FileWatcher.Event]) {
        var refs = Set<String>()
        var reasons: [String] = []
        var everything: String?
        for event in events {
            guard case .changed(let watch, let name, let changes) = event else {
                everything = "the kernel's event queue overflowed"
                continue
            }
            if watch == rootWatch || watch == blobFolderWatch {
                if changes.contains(.deletedSelf) || changes.contains(.movedSelf) || changes.contains(.unwatched) {
                    everything = "a folder of the layout was removed or moved"
                    lost()
                } else if watch == rootWatch, name == "index.json" || name == "blobs" {
                    everything = "\(name!) changed"
                } else if watch == blobFolderWatch, let name, let users = refsByBlob["sha256:" + name], !users.isEmpty {
                    refs.formUnion(users)
                    reasons.append("blob sha256:\(name) changed")
                }
            } else if let digest = digestsByWatch[watch] {
                if changes.contains(.unwatched) {
                    digestsByWatch[watch] = nil
                    if blobWatches[digest] == watch { blobWatches[digest] = nil }
                }
                if let users = refsByBlob[digest], !users.isEmpty {
                    refs.formUnion(users)
                    reasons.append("blob \(digest) changed")
                }
            }
        }
        if let everything { return changed(refs: nil, everything) }
        if !refs.isEmpty { changed(refs: refs.sorted(), reasons.joined(separator: "; ")) }
    }

    private func changed(refs: [String]?, _ reason: String) {
        onChange?(refs, reason)
    }

    /// The root or blob folder went away: every watch is void. The next
    /// verified image arms them again (`watch(ref:blobs:)`).
    private func lost() {
        guard isWatching else { return }
        unwatchAll()
        unwatchedReason = Self.lostReason
        log("images: \(Self.lostReason); presence is trusted for presence_ttl meanwhile")
    }

    /// For the daemon's lifetime: presence is trusted for `presence_ttl`.
    private func giveUp(_ reason: String) {
        let wasWatching = isWatching
        unwatchAll()
        watcher?.close()
        watcher = nil
        unwatchedReason = reason
        log("images: \(reason); presence is trusted for presence_ttl instead")
        if wasWatching { changed(refs: nil, reason) }
    }

    private func unwatchAll() {
        for watch in [rootWatch, blobFolderWatch].compactMap({ $0 }) + Array(blobWatches.values) { watcher?.unwatch(watch) }
        rootWatch = nil
        blobFolderWatch = nil
        blobWatches = [:]
        digestsByWatch = [:]
    }

    private func blobPath(_ digest: String) -> String? {
        guard digest.hasPrefix("sha256:") else { return nil }
        return blobsPath + "/" + digest.dropFirst("sha256:".count)
    }
}
