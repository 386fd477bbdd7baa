import SidecarCore
import XCTest

@testable import SidecarWire

/// Round trips of the image, lease and prune messages, with every field set
/// to something other than its default so a field that is dropped shows.
final class ImageMessageCodingTests: XCTestCase {
    private let lease = LeaseRecord(
        id: "lease-7f3a", target: "agent-base", holder: "runner-7/task-ebdf2deb", expiresUnixMilliseconds: 1_700_000_600_123,
        holderProcess: ProcessIdentity(pid: 4121, startTime: 987_654_321))

    func testEnsureImageRequestRoundTrip() throws {
        let request = EnsureImageRequest(
            image: "localhost/agent-base:latest", leaseHolder: "runner-7/task-ebdf2deb", leaseTTLSeconds: 600,
            leaseHolderProcess: ProcessIdentity(pid: 4121, startTime: 987_654_321))
        XCTAssertEqual(try EnsureImageRequest(wireBytes: request.wireBytes()), request)
    }

    func testAcquireLeaseRequestRoundTripWithAHolderProcess() throws {
        let request = AcquireLeaseRequest(
            target: "agent-base", holder: "container/abc", ttlSeconds: 0, holderProcess: ProcessIdentity(pid: 77, startTime: 5))
        XCTAssertEqual(try AcquireLeaseRequest(wireBytes: request.wireBytes()), request)
        let unbound = AcquireLeaseRequest(target: "agent-base", holder: "runner-1", ttlSeconds: 60)
        XCTAssertNil(try AcquireLeaseRequest(wireBytes: unbound.wireBytes()).holderProcess)
    }

    func testALeaseWithNoTimeLimitSaysZeroOnTheWire() throws {
        var bound = lease
        bound.expiresUnixMilliseconds = LeaseRecord.noExpiry
        let bytes = try bound.wireBytes()
        XCTAssertEqual(try LeaseRecord(wireBytes: bytes), bound)
        // Field 4 (expires_unix_ms) is left out, i.e. 0: its tag and the
        // 6-byte varint of 1_700_000_600_123 are missing.
        XCTAssertEqual(bytes.count, try lease.wireBytes().count - 7)
    }

    func testEnsureImageResponseRoundTripWithLease() throws {
        let response = EnsureImageResponse(answer: EnsureImageAnswer(
            outcome: .repaired, name: "agent-base", ref: "localhost/agent-base:latest", id: "sha256:0123abcd",
            coalesced: true, jobSeconds: 3.25, detail: "blob sha256:ff00 was truncated", lease: lease))
        XCTAssertEqual(try EnsureImageResponse(wireBytes: response.wireBytes()), response)
    }

    func testEnsureImageResponseRoundTripWithoutLease() throws {
        let response = EnsureImageResponse(answer: EnsureImageAnswer(
            outcome: .stale, name: "agent-base", ref: "localhost/agent-base:latest", id: "sha256:0123abcd",
            coalesced: true, jobSeconds: 0.5, detail: "pull failed: registry unreachable"))
        let decoded = try EnsureImageResponse(wireBytes: response.wireBytes())
        XCTAssertEqual(decoded, response)
        XCTAssertNil(decoded.answer.lease, "an absent lease must not come back as an empty one")
    }

    func testEveryOutcomeRoundTrips() throws {
        for outcome in ImageOutcome.allCases {
            let response = EnsureImageResponse(answer: EnsureImageAnswer(outcome: outcome, name: "n", ref: "r"))
            XCTAssertEqual(try EnsureImageResponse(wireBytes: response.wireBytes()).answer.outcome, outcome)
        }
    }

    func testEnsureImageResponseWithoutOutcomeIsRejected() {
        // Field 2 (name) = "x" and no outcome: not an answer.
        XCTAssertThrowsError(try EnsureImageResponse(wireBytes: [0x12, 0x01, 0x78]))
    }

    func testEmptyRequestsRoundTrip() throws {
        XCTAssertEqual(try ListImagesRequest(wireBytes: ListImagesRequest().wireBytes()), ListImagesRequest())
        XCTAssertEqual(try ListLeasesRequest(wireBytes: ListLeasesRequest().wireBytes()), ListLeasesRequest())
        XCTAssertEqual(try ReleaseLeaseResponse(wireBytes: ReleaseLeaseResponse().wireBytes()), ReleaseLeaseResponse())
    }

    func testListImagesResponseRoundTrip() throws {
        let response = ListImagesResponse(images: [
            ImageStatus(
                name: "agent-node", ref: "localhost/agent-node:latest", present: true, baseImage: "agent-base",
                keepWarm: true, state: .backingOff, lastJobOutcome: "FAILED", lastJobEndUnixMilliseconds: 1_700_000_000_456,
                lastError: "step 3/7: npm ci\nexit status 1", backoffRemainingSeconds: 42.5),
            ImageStatus(
                name: "agent-base", ref: "localhost/agent-base:latest", present: false, baseImage: "docker.io/library/debian:12",
                keepWarm: true, state: .waitingForBase, lastJobOutcome: "BUILT", lastJobEndUnixMilliseconds: 1_699_999_999_000,
                lastError: "e", backoffRemainingSeconds: 0.25),
        ])
        XCTAssertEqual(try ListImagesResponse(wireBytes: response.wireBytes()), response)
        XCTAssertEqual(try ListImagesResponse(wireBytes: ListImagesResponse(images: []).wireBytes()), ListImagesResponse(images: []))
    }

    func testEveryImageStateRoundTrips() throws {
        let images = ImageStatus.State.allCases.map { ImageStatus(name: $0.rawValue, ref: "r", present: true, state: $0) }
        XCTAssertEqual(try ListImagesResponse(wireBytes: ListImagesResponse(images: images).wireBytes()).images, images)
    }

    func testLeaseRoundTrip() throws {
        XCTAssertEqual(try LeaseRecord(wireBytes: lease.wireBytes()), lease)
    }

    func testAcquireLeaseRequestRoundTrip() throws {
        let request = AcquireLeaseRequest(target: "localhost/agent-base:latest", holder: "runner-7/task-ebdf2deb", ttlSeconds: 900)
        XCTAssertEqual(try AcquireLeaseRequest(wireBytes: request.wireBytes()), request)
    }

    func testReleaseLeaseRequestRoundTrip() throws {
        let request = ReleaseLeaseRequest(id: "lease-7f3a")
        XCTAssertEqual(try ReleaseLeaseRequest(wireBytes: request.wireBytes()), request)
    }

    func testListLeasesResponseRoundTrip() throws {
        let second = LeaseRecord(id: "lease-0001", target: "agent-node", holder: "runner-2/task-1", expiresUnixMilliseconds: 1)
        let response = ListLeasesResponse(leases: [lease, second])
        XCTAssertEqual(try ListLeasesResponse(wireBytes: response.wireBytes()), response)
        XCTAssertEqual(try ListLeasesResponse(wireBytes: ListLeasesResponse(leases: []).wireBytes()), ListLeasesResponse(leases: []))
    }

    func testPruneRequestRoundTrip() throws {
        let request = PruneRequest(dryRun: true)
        XCTAssertEqual(try PruneRequest(wireBytes: request.wireBytes()), request)
    }

    func testPruneResponseRoundTrip() throws {
        let response = PruneResponse(report: PruneReport(
            removed: ["localhost/old:1", "sha256:dangling"], bytesFreed: 5_368_709_120, keptLeased: ["agent-base"]))
        XCTAssertEqual(try PruneResponse(wireBytes: response.wireBytes()), response)
    }
}
