import Foundation
import SidecarDigest
import SidecarOCI
import XCTest

/// The layout's file work on real files: verification and its cache,
/// repair of index.json from known refs, crash leftovers, garbage collection.
final class OCIStoreTests: XCTestCase {
    private var root: String!
    private var layout: OCILayout!
    private var verified: VerifiedBlobs!
    private var store: OCIStore!

    override func setUpWithError() throws {
        root = "/tmp/sc-ocistore-\(UUID().uuidString.prefix(8))"
        layout = OCILayout(root: root)
        try layout.prepare()
        verified = VerifiedBlobs()
        store = OCIStore(layout: layout, verified: verified)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Writes a blob and returns its descriptor.
    private func blob(_ bytes: [UInt8], type: String = "application/octet-stream") throws -> OCIDescriptor {
        let hex = SHA256Digest.hex(of: bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: layout.blobsPath + "/" + hex))
        return OCIDescriptor(mediaType: type, digest: "sha256:" + hex, size: Int64(bytes.count))
    }

    /// An image: one layer, a config and a manifest, named `ref` in index.json.
    private func image(_ ref: String, layer: String) throws -> OCIDescriptor {
        let layerBlob = try blob(Array(layer.utf8))
        let config = try blob(Array(#"{"architecture":"amd64","os":"linux"}"#.utf8))
        let manifest = #"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(config.digest)","size":\#(config.size)},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\#(layerBlob.digest)","size":\#(layerBlob.size)}]}"#
        var descriptor = try blob(Array(manifest.utf8), type: OCIDescriptor.manifestType)
        descriptor.refName = ref
        try store.setRef(descriptor)
        return descriptor
    }

    func testAnIntactImageIsHashedOnceWhileItsBlobsAreUnchanged() throws {
        let manifest = try image("a:1", layer: String(repeating: "x", count: 5000))
        guard case .intact(_, let blobs) = store.verifier.verify(ref: "a:1") else { return XCTFail() }
        XCTAssertEqual(blobs.count, 3)
        let hashed = verified.hashedBytes
        XCTAssertGreaterThan(hashed, 5000)
        XCTAssertEqual(store.verifier.verify(ref: "a:1"), .intact(manifest: manifest, blobs: blobs))
        XCTAssertEqual(verified.hashedBytes, hashed, "unchanged blobs are not hashed again")
        XCTAssertEqual(store.verifier.verify(ref: "b:1"), .absent)
    }

    func testAnAlteredBlobOfTheRightSizeIsCaughtEvenAfterItWasVerified() throws {
        _ = try image("a:1", layer: "layer-content")
        _ = store.verifier.verify(ref: "a:1")
        let layerPath = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: layout.blobsPath)
            .map { layout.blobsPath + "/" + $0 }
            .first { (try? String(contentsOfFile: $0, encoding: .utf8)) == "layer-content" })
        // Same size, other bytes, and a new mtime: the cache must not vouch for it.
        try Data("layer-CONTENT".utf8).write(to: URL(fileURLWithPath: layerPath))
        guard case .damaged(let damages) = store.verifier.verify(ref: "a:1") else { return XCTFail() }
        XCTAssertTrue(damages.first?.description.contains("hashes to") ?? false, "\(damages)")
    }

    func testADamagedIndexIsRebuiltFromTheKnownRefsThatStillVerify() throws {
        let a = try image("a:1", layer: "aaa")
        let b = try image("b:1", layer: "bbb")
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: layout.indexPath))
        guard case .damaged(let damages) = store.verifier.verify(ref: "a:1") else { return XCTFail() }
        let steps = try store.repair(ref: "a:1", damages: damages, known: [a, b])
        XCTAssertTrue(steps.joined().contains("rebuilt index.json"), "\(steps)")
        XCTAssertEqual(store.verifier.verify(ref: "b:1"), .intact(manifest: b, blobs: store.verifier.reachable(from: b)!.map(\.digest)))
        XCTAssertEqual(store.verifier.verify(ref: "a:1"), .absent, "the damaged image's ref is left out, to be pulled again")
    }

    func testCrashLeftoversAreClearedAndAMissingIndexBesideBlobsIsNotPapered() throws {
        _ = try image("a:1", layer: "aaa")
        try Data("half".utf8).write(to: URL(fileURLWithPath: layout.indexPath + ".tmp-1-2"))
        try FileManager.default.createDirectory(atPath: layout.incomingPath + "/pull-1", withIntermediateDirectories: true)
        try FileManager.default.removeItem(atPath: layout.indexPath)
        try layout.prepare()
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.indexPath + ".tmp-1-2"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layout.incomingPath), [])
        XCTAssertEqual(store.verifier.verify(ref: "a:1"), .damaged([.indexMissing]), "left for repair, not replaced by an empty index")
    }

    func testGarbageCollectionRemovesOnlyWhatNothingReaches() throws {
        let kept = try image("kept:1", layer: "kept")
        let dropped = try image("dropped:1", layer: "dropped")
        let remembered = try image("remembered:1", layer: "remembered")
        try store.removeRef("dropped:1")
        try store.removeRef("remembered:1")
        let dryRun = try store.collectGarbage(protected: [remembered], dryRun: true)
        XCTAssertEqual(Set(dryRun.removed), Set(store.verifier.reachable(from: dropped)!.map(\.digest)).subtracting(store.verifier.reachable(from: kept)!.map(\.digest)))
        let collected = try store.collectGarbage(protected: [remembered], dryRun: false)
        XCTAssertEqual(collected, dryRun)
        XCTAssertGreaterThan(collected.bytes, 0)
        XCTAssertEqual(store.verifier.verify(manifest: remembered), .intact(manifest: remembered, blobs: store.verifier.reachable(from: remembered)!.map(\.digest)))
        guard case .intact = store.verifier.verify(ref: "kept:1") else { return XCTFail("a ref in index.json keeps its blobs") }
        try Data("x".utf8).write(to: URL(fileURLWithPath: layout.indexPath))
        XCTAssertThrowsError(try store.collectGarbage(protected: [], dryRun: false), "nothing is removed while index.json is damaged")
    }
}
