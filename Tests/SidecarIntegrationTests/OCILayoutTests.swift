import Foundation
import SidecarClient
import SidecarWire
import SidecarTestSupport
import XCTest

/// The default backend, an OCI image layout, against a real docker-registry
/// and skopeo: two images sharing a base layer, damaged one way at a time.
final class OCILayoutTests: OCILayoutTestCase {
    // MARK: Tests

    func testAPulledImageIsPresentAndVerifiedAndSharesItsBaseLayer() async throws {
        let client = try start()
        let alpha = try await client.ensureImage("alpha", timeout: .seconds(60))
        XCTAssertEqual(alpha.outcome, .pulled)
        XCTAssertTrue(alpha.id.hasPrefix("sha256:"), alpha.id)
        let beta = try await client.ensureImage("beta", timeout: .seconds(60))
        XCTAssertEqual(beta.outcome, .pulled)
        XCTAssertEqual(try blobs(of: "alpha:1").layers[0], try blobs(of: "beta:1").layers[0], "one shared base layer")
        try assertIntact("alpha:1")
        try assertIntact("beta:1")
        let again = try await client.ensureImage("alpha")
        XCTAssertEqual(again.outcome, .present)
        XCTAssertEqual(again.id, alpha.id)
    }

    func testEveryDamageIsDetectedAndRepairedWhileTheOtherImageKeepsWorking() async throws {
        let client = try start()
        _ = try await client.ensureImage("alpha", timeout: .seconds(60))
        _ = try await client.ensureImage("beta", timeout: .seconds(60))

        let damages: [(name: String, expect: String, damage: () throws -> Void)] = [
            ("missing ref", "missing from index.json", {
                try self.writeIndex(try self.index().filter { ($0["annotations"] as? [String: String])?.values.contains("alpha:1") != true })
            }),
            ("missing layer blob", "is missing", { try FileManager.default.removeItem(atPath: self.blobPath(try self.blobs(of: "alpha:1").layers[1])) }),
            ("truncated layer blob", "bytes, not", { truncate(self.blobPath(try self.blobs(of: "alpha:1").layers[1]), 100) }),
            ("altered layer blob", "hashes to", { try self.overwrite(self.blobPath(try self.blobs(of: "alpha:1").layers[1]), at: 700, with: 0x41) }),
            ("missing manifest", "manifest blob", { try FileManager.default.removeItem(atPath: self.blobPath(try self.blobs(of: "alpha:1").manifest)) }),
            ("unparsable config", "config blob", {
                let path = self.blobPath(try self.blobs(of: "alpha:1").config)
                let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
                try Data(repeating: 0x7B, count: size).write(to: URL(fileURLWithPath: path))
            }),
            ("unparsable index.json", "index.json cannot be read", { try Data("{ not json".utf8).write(to: URL(fileURLWithPath: self.layout + "/index.json")) }),
            ("missing index.json", "index.json", { try FileManager.default.removeItem(atPath: self.layout + "/index.json") }),
        ]
        for (name, expect, damage) in damages {
            try damage()
            let answer = try await client.ensureImage("alpha", timeout: .seconds(60))
            XCTAssertEqual(answer.outcome, .repaired, name)
            XCTAssertTrue(answer.detail.contains(expect), "\(name): \(answer.detail)")
            try assertIntact("alpha:1")
            let beta = try await client.ensureImage("beta", timeout: .seconds(60))
            XCTAssertEqual(beta.outcome, .present, "\(name): the other image keeps working")
            try assertIntact("beta:1")
        }
    }

    func testADamagedSharedLayerIsRepairedForBothImages() async throws {
        let client = try start()
        _ = try await client.ensureImage("alpha", timeout: .seconds(60))
        _ = try await client.ensureImage("beta", timeout: .seconds(60))
        truncate(blobPath(try blobs(of: "alpha:1").layers[0]), 10)
        let alpha = try await client.ensureImage("alpha", timeout: .seconds(60))
        XCTAssertEqual(alpha.outcome, .repaired)
        // The repair put the shared layer back, so beta is whole again too.
        let beta = try await client.ensureImage("beta", timeout: .seconds(60))
        XCTAssertEqual(beta.outcome, .present)
        try assertIntact("beta:1")
    }

    func testWithTheRegistryStoppedADamagedImageFailsAtOnceAndOneWithAValidCopyIsStale() async throws {
        let client = try start()
        _ = try await client.ensureImage("alpha", timeout: .seconds(60))
        _ = try await client.ensureImage("beta", timeout: .seconds(60))
        registry.stop()
        truncate(blobPath(try blobs(of: "alpha:1").layers[1]), 5)
        try writeIndex(try index().filter { ($0["annotations"] as? [String: String])?.values.contains("beta:1") != true })

        let began = Date()
        do {
            _ = try await client.ensureImage("alpha", timeout: .seconds(60))
            XCTFail("no registry and no valid copy: it cannot be made")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .unavailable, "a registry down is transient")
            XCTAssertEqual(error.detail?.category, "registry_unavailable")
            XCTAssertTrue(error.message.contains("connection refused"), error.message)
            XCTAssertTrue(error.message.contains("no older copy"), error.message)
            XCTAssertFalse(error.detail?.remedy.isEmpty ?? true)
        }
        XCTAssertLessThan(Date().timeIntervalSince(began), 10, "fails at once, without retrying")
        do {
            _ = try await client.ensureImage("alpha")
            XCTFail("backing off")
        } catch let error as SidecarError {
            XCTAssertEqual(error.code, .unavailable, "never loops: the next call gets the back-off")
            XCTAssertTrue(error.message.contains("backing off"), error.message)
        }

        let beta = try await client.ensureImage("beta", timeout: .seconds(60))
        XCTAssertEqual(beta.outcome, .stale)
        XCTAssertTrue(beta.detail.contains("refreshing failed"), beta.detail)
        try assertIntact("beta:1")
    }

    func testGarbageCollectionKeepsLeasedImagesAndWhatIsBeingVerified() async throws {
        try registry.push("agent/big:1", layers: ["big-layer:\(64 << 20)"])
        try registry.push("agent/idle:1", layers: ["idle-layer:2048"])
        let client = try start(extra: """
            prune_unused_after = "0s"

            [[images.image]]
            name = "big"
            ref = "big:1"
            pull = "\(registry.host)/agent/big:1"

            [[images.image]]
            name = "idle"
            ref = "idle:1"
            pull = "\(registry.host)/agent/idle:1"
            """)
        for name in ["alpha", "big", "idle"] { _ = try await client.ensureImage(name, timeout: .seconds(120)) }
        _ = try await client.acquireLease(target: "alpha", holder: "runner-1", ttlSeconds: 600)
        let bigLayer = blobPath(try blobs(of: "big:1").layers[0])
        let idleLayer = blobPath(try blobs(of: "idle:1").layers[0])
        // Touch the big layer so its sha256 is computed again (64 MB), then
        // send EnsureImage and Prune back to back on one connection: the
        // daemon starts the verification before it reads the Prune, so the
        // verification is in flight while prune runs.
        _ = utimes(bigLayer, nil)
        let raw = try RawConnection.greeted(socketPath: daemon!.socketPath)
        raw.send(.call(id: 1, method: "EnsureImage", payload: EnsureImageRequest(image: "big").wireBytes()))
        raw.send(.call(id: 2, method: "Prune", payload: PruneRequest().wireBytes()))
        var replies: [UInt64: ServerFrame] = [:]
        while replies.count < 2 {
            let frame = try raw.readFrame(timeout: 60)
            replies[frame.callID] = frame
        }
        let pruned = try XCTUnwrap(replies[2])
        XCTAssertEqual(pruned.statusCode, .ok, pruned.statusMessage)
        let report = try PruneResponse(wireBytes: pruned.payload).report
        let verified = try XCTUnwrap(replies[1])
        XCTAssertEqual(verified.statusCode, .ok, verified.statusMessage)
        XCTAssertEqual(try EnsureImageResponse(wireBytes: verified.payload).answer.outcome, .present)
        XCTAssertTrue(report.keptLeased.contains("alpha"), "\(report)")
        XCTAssertFalse(report.removed.contains("big"), "\(report)")
        XCTAssertTrue(report.removed.contains("idle"), "prune does remove what nothing holds: \(report)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: bigLayer))
        XCTAssertFalse(FileManager.default.fileExists(atPath: idleLayer), "its unreachable blobs are collected")
        try assertIntact("alpha:1")
        try assertIntact("big:1")
    }
}
