import Foundation
import Glibc

/// The changes the sidecar makes to a layout: repair, moving a pulled image
/// in, dropping a ref, and garbage collection. Each is blocking (run it on
/// the thread pool) and must not run beside another change or a
/// verification (the backend's gate sees to that).
public struct OCIStore: Sendable {
    public let layout: OCILayout
    public let verifier: OCIVerifier

    public init(layout: OCILayout, verified: VerifiedBlobs) {
        self.layout = layout
        verifier = OCIVerifier(layout: layout, verified: verified)
    }

    /// Removes what `damages` name (bad blobs; the ref, when its image is
    /// damaged) and rebuilds a damaged `index.json` from `known` refs that
    /// still verify, so no other image is lost. Returns what it did.
    public func repair(ref: String, damages: [OCIDamage], known: [OCIDescriptor]) throws -> [String] {
        var done: [String] = []
        for digest in Set(damages.compactMap(\.blobToDelete)) {
            guard let path = layout.blobPath(digest: digest) else { continue }
            if unlink(path) == 0 { done.append("removed the damaged blob \(digest)") }
            verifier.verified.forget(digest)
        }
        if damages.contains(where: \.damagesIndex) {
            var kept: [OCIDescriptor] = []
            for descriptor in known where descriptor.refName != ref {
                if case .intact = verifier.verify(manifest: descriptor) { kept.append(descriptor) }
            }
            try layout.writeIndex(kept)
            done.append("rebuilt index.json with the \(kept.count) other image(s) that verify")
        } else if case .manifests(let manifests) = layout.readIndex(), manifests.contains(where: { $0.refName == ref }) {
            try layout.writeIndex(manifests.filter { $0.refName != ref })
            done.append("dropped \(ref) from index.json")
        }
        return done
    }

    /// Moves the image `ref` pulled into the layout folder `incoming` into the
    /// store: every blob is checked against its digest, synced, and renamed
    /// in; then `index.json` names it (atomically). Returns its manifest.
    public func importImage(ref: String, from incoming: String) throws -> OCIDescriptor {
        let source = OCILayout(root: incoming)
        let sourceVerifier = OCIVerifier(layout: source, verified: VerifiedBlobs())
        guard case .manifests(let manifests) = source.readIndex(),
            let pulled = manifests.last(where: { $0.refName == ref }) ?? (manifests.count == 1 ? manifests.first : nil)
        else { throw OCIError("the pull wrote no image \(ref) to \(incoming)") }
        guard case .intact(_, let blobs) = sourceVerifier.verify(manifest: pulled) else {
            throw OCIError("the pulled image \(ref) does not verify")
        }
        for digest in blobs {
            guard let from = source.blobPath(digest: digest), let to = layout.blobPath(digest: digest) else { continue }
            guard OCILayout.syncFile(from) else { throw OCIError("cannot sync \(from)") }
            // Same content under the same digest: replacing an existing (even
            // damaged) copy is safe and repairs it.
            try OCILayout.moveSynced(from, to: to)
            // Hashed just now, and a rename keeps the inode and mtime: the
            // confirming check after the pull need not hash it again.
            if let stamp = VerifiedBlobs.stamp(to) { verifier.verified.record(digest, stamp, hashed: 0) } else { verifier.verified.forget(digest) }
        }
        var named = pulled
        named.refName = ref
        try setRef(named)
        return named
    }

    /// Points `descriptor.refName` at `descriptor` in `index.json`.
    public func setRef(_ descriptor: OCIDescriptor) throws {
        var manifests: [OCIDescriptor] = []
        if case .manifests(let current) = layout.readIndex() { manifests = current }
        manifests.removeAll { $0.refName == descriptor.refName }
        manifests.append(descriptor)
        try layout.writeIndex(manifests)
    }

    public func removeRef(_ ref: String) throws {
        guard case .manifests(let manifests) = layout.readIndex() else { return }
        try layout.writeIndex(manifests.filter { $0.refName != ref })
    }

    public struct Collected: Sendable, Equatable {
        public var removed: [String] = []
        public var bytes: UInt64 = 0
    }

    /// Removes the blobs no image in `index.json` (nor any of `protected`)
    /// reaches. Does nothing when `index.json` is damaged: everything may be
    /// reachable from what it lost.
    public func collectGarbage(protected: [OCIDescriptor], dryRun: Bool) throws -> Collected {
        guard case .manifests(let manifests) = layout.readIndex() else {
            throw OCIError("index.json is damaged: no blob is removed until it is repaired")
        }
        var reachable = Set<String>()
        for manifest in manifests + protected {
            guard let blobs = verifier.reachable(from: manifest) else {
                reachable.insert(manifest.digest)
                continue
            }
            reachable.formUnion(blobs.map(\.digest))
        }
        var collected = Collected()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.blobsPath)) ?? [] {
            let digest = "sha256:" + name
            guard !reachable.contains(digest), let path = layout.blobPath(digest: digest) else { continue }
            let size = VerifiedBlobs.stamp(path)?.size ?? 0
            if !dryRun {
                guard unlink(path) == 0 else { continue }
                verifier.verified.forget(digest)
            }
            collected.removed.append(digest)
            collected.bytes += UInt64(max(0, size))
        }
        collected.removed.sort()
        return collected
    }
}
