import Glibc
import SidecarDigest

/// A scrub's blocking parts: what the images reach, and each blob hashed in
/// slices (so the caller can pace them and let layout changes in between),
/// trusting no cache. Run on the thread pool.
public struct OCIScrub: Sendable {
    public let verifier: OCIVerifier

    public init(verifier: OCIVerifier) {
        self.verifier = verifier
    }

    public struct Blob: Sendable, Equatable {
        public var descriptor: OCIDescriptor
        public var path: String
        /// The refs whose images reach it.
        public var refs: [String]
    }

    public struct Plan: Sendable {
        /// Distinct blobs, in the order first reached.
        public var blobs: [Blob] = []
        /// Refs that cannot be scrubbed blob by blob, and why (no longer in
        /// index.json, or a manifest that cannot be read).
        public var unreadable: [(ref: String, damage: String)] = []
        public var images = 0
    }

    /// The blobs `refs` reach, read from index.json and the manifests.
    public func plan(refs: [String]) -> Plan {
        var plan = Plan()
        guard case .manifests(let manifests) = verifier.layout.readIndex() else {
            plan.unreadable = refs.map { ($0, OCIDamage.indexMissing.description) }
            return plan
        }
        var positions: [String: Int] = [:]
        for ref in refs {
            guard let manifest = manifests.last(where: { $0.refName == ref }) else {
                plan.unreadable.append((ref, OCIDamage.refMissing(ref).description))
                continue
            }
            guard let reached = verifier.reachable(from: manifest) else {
                plan.unreadable.append((ref, "its manifest \(manifest.digest) cannot be read"))
                continue
            }
            plan.images += 1
            for descriptor in reached {
                if let position = positions[descriptor.digest] {
                    if !plan.blobs[position].refs.contains(ref) { plan.blobs[position].refs.append(ref) }
                    continue
                }
                guard let path = verifier.layout.blobPath(descriptor) else { continue }
                positions[descriptor.digest] = plan.blobs.count
                plan.blobs.append(Blob(descriptor: descriptor, path: path, refs: [ref]))
            }
        }
        return plan
    }

    public enum Verdict: Sendable, Equatable {
        case intact
        /// What is wrong with it.
        case damaged(OCIDamage)
        /// The file changed while it was hashed: its change raises a check
        /// of its own.
        case changed
    }

    /// One blob being hashed. Touched by one pool thread at a time, each
    /// slice after the last has returned to the loop.
    public final class Hashing: @unchecked Sendable {
        public let blob: Blob
        public private(set) var hashedBytes: Int64 = 0
        private var descriptor: Int32 = -1
        private var opened: VerifiedBlobs.Stamp?
        private var hasher: SHA256Digest.Hasher?
        private var verdict: Verdict?

        public init(blob: Blob) {
            self.blob = blob
        }

        deinit {
            if descriptor >= 0 { close(descriptor) }
        }

        /// Hashes up to about `bytes` more; returns the verdict once the blob
        /// is done, nil while there is more to read.
        public func slice(bytes: Int, verified: VerifiedBlobs) -> Verdict? {
            if let verdict { return verdict }
            if descriptor < 0, let failed = open() { return finish(failed, verified: verified) }
            let chunk = SHA256Digest.chunkBytes
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
            defer { buffer.deallocate() }
            var read = 0
            while read < bytes {
                let count = Glibc.read(descriptor, buffer.baseAddress, chunk)
                if count < 0 && errno == EINTR { continue }
                if count < 0 { return finish(.damaged(.blobMissing(digest: blob.descriptor.digest, role: "scrubbed")), verified: verified) }
                if count == 0 { return finish(done(), verified: verified) }
                hasher!.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                hashedBytes += Int64(count)
                read += count
                // Longer than its descriptor says: wrong whatever the rest is.
                if hashedBytes > blob.descriptor.size { return finish(done(), verified: verified) }
            }
            return nil
        }

        /// Opens the file; a verdict when that already decides.
        private func open() -> Verdict? {
            let digest = blob.descriptor.digest
            descriptor = Glibc.open(blob.path, O_RDONLY | O_CLOEXEC)
            var info = stat()
            guard descriptor >= 0, fstat(descriptor, &info) == 0, let stamp = VerifiedBlobs.stamp(info) else {
                return .damaged(.blobMissing(digest: digest, role: "scrubbed"))
            }
            guard stamp.size == blob.descriptor.size else {
                return .damaged(.blobWrongSize(digest: digest, role: "scrubbed", expected: blob.descriptor.size, actual: stamp.size))
            }
            opened = stamp
            hasher = SHA256Digest.Hasher()
            return nil
        }

        private func done() -> Verdict {
            let hex = hasher.take()!.finish()
            // The bytes read are the file's as it is now only if nothing
            // replaced or wrote it meanwhile.
            guard let opened, VerifiedBlobs.stamp(blob.path) == opened else { return .changed }
            if hashedBytes != blob.descriptor.size {
                return .damaged(.blobWrongSize(digest: blob.descriptor.digest, role: "scrubbed", expected: blob.descriptor.size, actual: hashedBytes))
            }
            return hex == blob.descriptor.sha256Hex ? .intact : .damaged(.blobWrongDigest(digest: blob.descriptor.digest, role: "scrubbed", actual: hex))
        }

        private func finish(_ verdict: Verdict, verified: VerifiedBlobs) -> Verdict {
            self.verdict = verdict
            if descriptor >= 0 {
                close(descriptor)
                descriptor = -1
            }
            switch verdict {
            case .intact: if let opened { verified.record(blob.descriptor.digest, opened, hashed: hashedBytes) }
            case .damaged: verified.forget(blob.descriptor.digest)
            case .changed: break
            }
            return verdict
        }
    }
}
