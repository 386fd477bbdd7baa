import Foundation
import SidecarDigest

/// Checks an image in a layout: its ref in `index.json`, then its manifest,
/// config and every layer blob against the size and sha256 their descriptors
/// give. Blobs already verified and unchanged are not hashed again.
/// Blocking: run on the thread pool.
public struct OCIVerifier: Sendable {
    public let layout: OCILayout
    public let verified: VerifiedBlobs

    public init(layout: OCILayout, verified: VerifiedBlobs) {
        self.layout = layout
        self.verified = verified
    }

    public enum Result: Sendable, Equatable {
        /// Every blob is there and right; `blobs` are the digests it reaches.
        case intact(manifest: OCIDescriptor, blobs: [String])
        /// `index.json` is fine and does not name the ref.
        case absent
        case damaged([OCIDamage])
    }

    public func verify(ref: String) -> Result {
        switch layout.readIndex() {
        case .damaged(let damage):
            return .damaged([damage])
        case .manifests(let manifests):
            guard let manifest = manifests.last(where: { $0.refName == ref }) else { return .absent }
            return verify(manifest: manifest)
        }
    }

    /// Checks one image by its manifest (or image index) descriptor.
    public func verify(manifest: OCIDescriptor) -> Result {
        var damages: [OCIDamage] = []
        var blobs: [String] = []
        walk(manifest, role: manifest.isIndex ? "image index" : "manifest", damages: &damages, blobs: &blobs)
        return damages.isEmpty ? .intact(manifest: manifest, blobs: blobs) : .damaged(damages)
    }

    /// The blobs an image reaches (itself first), read without hashing (for
    /// GC and scrub): nil when its manifest cannot be read.
    public func reachable(from manifest: OCIDescriptor) -> [OCIDescriptor]? {
        var blobs = [manifest]
        guard let object = parsedBlob(manifest) else { return nil }
        if manifest.isIndex {
            for child in (object["manifests"] as? [Any] ?? []).compactMap(OCIDescriptor.init(json:)) {
                blobs += reachable(from: child) ?? [child]
            }
        } else {
            if let config = OCIDescriptor(json: object["config"]) { blobs.append(config) }
            blobs += (object["layers"] as? [Any] ?? []).compactMap(OCIDescriptor.init(json:))
        }
        return blobs
    }

    private func walk(_ descriptor: OCIDescriptor, role: String, damages: inout [OCIDamage], blobs: inout [String]) {
        guard check(descriptor, role: role, damages: &damages) else { return }
        blobs.append(descriptor.digest)
        guard role == "manifest" || role == "image index" || role == "config" else { return }
        guard let object = parsedBlob(descriptor) else {
            damages.append(.blobUnparsable(digest: descriptor.digest, role: role, reason: "not a JSON object"))
            return
        }
        if role == "config" { return }
        if descriptor.isIndex {
            let children = (object["manifests"] as? [Any] ?? []).compactMap(OCIDescriptor.init(json:))
            guard !children.isEmpty else {
                damages.append(.blobUnparsable(digest: descriptor.digest, role: role, reason: "it lists no manifests"))
                return
            }
            for child in children { walk(child, role: child.isIndex ? "image index" : "manifest", damages: &damages, blobs: &blobs) }
            return
        }
        guard let config = OCIDescriptor(json: object["config"]), let layerList = object["layers"] as? [Any] else {
            damages.append(.blobUnparsable(digest: descriptor.digest, role: role, reason: "it has no config or layers"))
            return
        }
        walk(config, role: "config", damages: &damages, blobs: &blobs)
        for layer in layerList {
            guard let layer = OCIDescriptor(json: layer) else {
                damages.append(.blobUnparsable(digest: descriptor.digest, role: role, reason: "a layer lacks a digest or size"))
                continue
            }
            walk(layer, role: "layer", damages: &damages, blobs: &blobs)
        }
    }

    /// Size, then sha256 unless the blob was verified and is unchanged.
    private func check(_ descriptor: OCIDescriptor, role: String, damages: inout [OCIDamage]) -> Bool {
        guard let path = layout.blobPath(descriptor), let hex = descriptor.sha256Hex else {
            damages.append(.badDigest(descriptor.digest))
            return false
        }
        guard let stamp = VerifiedBlobs.stamp(path) else {
            damages.append(.blobMissing(digest: descriptor.digest, role: role))
            return false
        }
        guard stamp.size == descriptor.size else {
            damages.append(.blobWrongSize(digest: descriptor.digest, role: role, expected: descriptor.size, actual: stamp.size))
            return false
        }
        if verified.isVerified(descriptor.digest, stamp) { return true }
        guard let hashed = SHA256Digest.file(path, stopAfter: descriptor.size) else {
            damages.append(.blobMissing(digest: descriptor.digest, role: role))
            return false
        }
        guard hashed.hex == hex, hashed.bytes == descriptor.size else {
            verified.forget(descriptor.digest)
            damages.append(.blobWrongDigest(digest: descriptor.digest, role: role, actual: hashed.hex))
            return false
        }
        verified.record(descriptor.digest, stamp, hashed: hashed.bytes)
        return true
    }

    private func parsedBlob(_ descriptor: OCIDescriptor) -> [String: Any]? {
        guard let path = layout.blobPath(descriptor), let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
