import Foundation
import SidecarClient
import SidecarCore
import SidecarTestSupport
import XCTest

/// Presence kept by the layout's own file events, on the default
/// `presence_ttl` (5 s): every damage is seen by the very next EnsureImage,
/// with no wait past a TTL; and the scrub, for what raises no event.
final class OCIPresenceTests: OCILayoutTestCase {
    private func startWatched() async throws -> SidecarClient {
        let client = try start(presenceTTL: nil)
        let alpha = try await client.ensureImage("alpha", timeout: .seconds(60)).outcome
        XCTAssertEqual(alpha, .pulled)
        let beta = try await client.ensureImage("beta", timeout: .seconds(60)).outcome
        XCTAssertEqual(beta, .pulled)
        let presence = try await client.health().imagePresence
        XCTAssertEqual(presence, "events")
        return client
    }

    private func layerPath(_ ref: String) throws -> String { blobPath(try blobs(of: ref).layers[1]) }

    /// An mtime put back after a write, to the nanosecond: only the ctime
    /// (and the events) tell.
    private func restoringModificationTime(of path: String, _ change: () throws -> Void) throws {
        var before = stat()
        XCTAssertEqual(stat(path, &before), 0)
        try change()
        var times = [before.st_atim, before.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0)
        var after = stat()
        XCTAssertEqual(stat(path, &after), 0)
        XCTAssertEqual([after.st_mtim.tv_sec, after.st_mtim.tv_nsec, after.st_size], [before.st_mtim.tv_sec, before.st_mtim.tv_nsec, before.st_size])
    }

    func testEveryChangeIsSeenByTheVeryNextCallOnTheDefaultTTL() async throws {
        let client = try await startWatched()
        let damages: [(name: String, expect: String, damage: () throws -> Void)] = [
            ("a layer truncated to 1,000 bytes", "bytes, not", { truncate(try self.layerPath("alpha:1"), 1000) }),
            ("a blob removed", "is missing", { try FileManager.default.removeItem(atPath: self.blobPath(try self.blobs(of: "alpha:1").config)) }),
            ("index.json replaced by another writer", "missing from index.json", {
                // As another tool writes it: a new file renamed over the old one.
                let kept = try self.index().filter { ($0["annotations"] as? [String: String])?.values.contains("alpha:1") != true }
                let data = try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "manifests": kept])
                try data.write(to: URL(fileURLWithPath: self.layout + "/index.json.other-writer"))
                XCTAssertEqual(rename(self.layout + "/index.json.other-writer", self.layout + "/index.json"), 0)
            }),
            ("a byte flipped, size and mtime kept", "hashes to", {
                let path = try self.layerPath("alpha:1")
                try self.restoringModificationTime(of: path) { try self.overwrite(path, at: 100, with: 0x5A) }
            }),
        ]
        for (name, expect, damage) in damages {
            let before = try await client.ensureImage("alpha").outcome
            XCTAssertEqual(before, .present, "\(name): intact before")
            try damage()
            let answer = try await client.ensureImage("alpha", timeout: .seconds(60))
            XCTAssertEqual(answer.outcome, .repaired, "\(name): seen by the very next call")
            XCTAssertTrue(answer.detail.contains(expect), "\(name): \(answer.detail)")
            try assertIntact("alpha:1")
            let other = try await client.ensureImage("beta").outcome
            XCTAssertEqual(other, .present, "\(name): the other image is untouched")
        }
    }

    func testAMovedBlobFolderFallsBackToTheTTLAndIsWatchedAgainAfterTheNextCheck() async throws {
        let client = try await startWatched()
        let blobs = layout + "/blobs/sha256"
        XCTAssertEqual(rename(blobs, blobs + ".moved"), 0)
        XCTAssertEqual(rename(blobs + ".moved", blobs), 0)
        let checked = try await client.ensureImage("alpha").outcome
        XCTAssertEqual(checked, .present, "checked again, and intact")
        let presence = try await client.health().imagePresence
        XCTAssertEqual(presence, "events", "watched again after that check")
        truncate(try layerPath("alpha:1"), 10)
        let repaired = try await client.ensureImage("alpha", timeout: .seconds(60)).outcome
        XCTAssertEqual(repaired, .repaired)
    }

    func testScrubHashesEveryBlobAndRepairsWhatItFindsDamaged() async throws {
        let client = try await startWatched()
        let clean = try await client.scrub(timeout: .seconds(60))
        XCTAssertEqual(clean.images, 2)
        XCTAssertEqual(clean.blobs, 7, "two manifests, two configs, the shared base and two top layers")
        let alpha = try blobs(of: "alpha:1")
        let beta = try blobs(of: "beta:1")
        let distinct = Set([alpha.manifest, alpha.config, beta.manifest, beta.config] + alpha.layers + beta.layers)
        let bytes = try distinct.reduce(UInt64(0)) { sum, digest in
            sum + (try FileManager.default.attributesOfItem(atPath: blobPath(digest))[.size] as! UInt64)
        }
        XCTAssertEqual(clean.bytes, bytes, "every byte hashed, the verification cache notwithstanding")
        XCTAssertEqual(clean.damaged, [])

        // A flip that keeps the size and the mtime, and no EnsureImage after
        // it: the scrub is what finds it.
        let path = try layerPath("alpha:1")
        try restoringModificationTime(of: path) { try overwrite(path, at: 1500, with: 0x42) }
        let found = try await client.scrub(timeout: .seconds(60))
        XCTAssertEqual(found.damaged.map(\.ref), ["alpha:1"])
        XCTAssertTrue(found.damaged.first?.damage.contains("hashes to") ?? false, "\(found.damaged)")
        XCTAssertEqual(found.damaged.first?.repair, "REPAIRED")
        try assertIntact("alpha:1")
        let after = try await client.ensureImage("alpha").outcome
        XCTAssertEqual(after, .present)

        let metrics = try await client.metrics()
        XCTAssertTrue(metrics.contains("sidecar_image_scrub_last_damaged_images 1"), metrics)
        XCTAssertTrue(metrics.contains("sidecar_image_scrubs_total{result=\"damaged\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("sidecar_image_scrubs_total{result=\"clean\"} 1"), metrics)

        let command = try CommandResult.sidecarctl(["scrub", "--socket", daemon!.socketPath])
        XCTAssertEqual(command.status, 0, command.stderr)
        XCTAssertTrue(command.stdout.contains("scrubbed 7 blob(s) of 2 image(s)"), command.stdout)
        XCTAssertTrue(command.stdout.contains("nothing damaged"), command.stdout)
    }

    func testScrubKeepsToItsPace() async throws {
        try registry.push("agent/paced:1", layers: ["paced-layer:\(2 << 20)"])
        let client = try start(extra: """
            scrub_mb_per_second = 1

            [[images.image]]
            name = "paced"
            ref = "paced:1"
            pull = "\(registry.host)/agent/paced:1"
            """, presenceTTL: nil)
        _ = try await client.ensureImage("paced", timeout: .seconds(60))
        let report = try await client.scrub(timeout: .seconds(60))
        XCTAssertGreaterThan(report.bytes, 2 << 20)
        // A lower bound only: the scrub waits until the bytes it hashed are due.
        XCTAssertGreaterThanOrEqual(report.seconds, Double(report.bytes) / 1e6 - 0.01, "\(report)")
        XCTAssertEqual(report.damaged, [])
    }
}
