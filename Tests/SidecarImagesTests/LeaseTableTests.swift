import SidecarCore
import SidecarImages
import XCTest

final class LeaseTableTests: XCTestCase {
    private var counter = 0
    private func nextID() -> String {
        counter += 1
        return "lease-\(counter)"
    }

    func testReacquiringRenewsTheSameLease() throws {
        var table = LeaseTable()
        let first = try table.acquire(target: "agent", holder: "runner-1", ttlSeconds: 10, nowUnixMilliseconds: 0, newID: nextID)
        let again = try table.acquire(target: "agent", holder: "runner-1", ttlSeconds: 10, nowUnixMilliseconds: 5000, newID: nextID)
        guard case .created(let created) = first, case .renewed(let renewed) = again else { return XCTFail("\(first) \(again)") }
        XCTAssertEqual(created.id, renewed.id)
        XCTAssertEqual(renewed.expiresUnixMilliseconds, 15000)
        let other = try table.acquire(target: "agent", holder: "runner-2", ttlSeconds: 10, nowUnixMilliseconds: 5000, newID: nextID)
        guard case .created = other else { return XCTFail("another holder gets its own lease") }
    }

    func testANewLeasePastTheMaximumIsRefusedButARenewalIsNot() throws {
        var table = LeaseTable()
        table.maxLeases = 2
        _ = try table.acquire(target: "agent", holder: "runner-1", ttlSeconds: 10, nowUnixMilliseconds: 0, newID: nextID)
        _ = try table.acquire(target: "agent", holder: "runner-2", ttlSeconds: 10, nowUnixMilliseconds: 0, newID: nextID)
        XCTAssertThrowsError(
            try table.acquire(target: "agent", holder: "runner-3", ttlSeconds: 10, nowUnixMilliseconds: 0, newID: nextID)
        ) { XCTAssertEqual($0 as? LeaseError, .full(max: 2)) }
        let renewal = try table.acquire(target: "agent", holder: "runner-1", ttlSeconds: 10, nowUnixMilliseconds: 1000, newID: nextID)
        guard case .renewed = renewal else { return XCTFail("\(renewal)") }
        XCTAssertEqual(table.leases.count, 2)
    }

    func testLeasesExpireByTTL() throws {
        var table = LeaseTable()
        _ = try table.acquire(target: "agent", holder: "h", ttlSeconds: 10, nowUnixMilliseconds: 0, newID: nextID)
        _ = try table.acquire(target: "tools", holder: "h", ttlSeconds: 20, nowUnixMilliseconds: 0, newID: nextID)
        XCTAssertEqual(table.holding(any: ["agent", "localhost/agent:latest"], nowUnixMilliseconds: 9999).count, 1)
        XCTAssertEqual(table.expire(nowUnixMilliseconds: 10_000).map(\.target), ["agent"])
        XCTAssertTrue(table.holding(any: ["agent"], nowUnixMilliseconds: 10_000).isEmpty)
        XCTAssertEqual(table.live(nowUnixMilliseconds: 10_000).map(\.target), ["tools"])
    }

    func testBadLeasesAndUnknownReleasesAreRefused() throws {
        var table = LeaseTable()
        XCTAssertThrowsError(try table.acquire(target: "", holder: "h", ttlSeconds: 1, nowUnixMilliseconds: 0, newID: nextID))
        XCTAssertThrowsError(try table.acquire(target: "a", holder: "", ttlSeconds: 1, nowUnixMilliseconds: 0, newID: nextID))
        XCTAssertThrowsError(try table.acquire(target: "a", holder: "h", ttlSeconds: 0, nowUnixMilliseconds: 0, newID: nextID))
        XCTAssertThrowsError(try table.release(id: "nope")) { XCTAssertEqual($0 as? LeaseError, .unknown("nope")) }
        guard case .created(let lease) = try table.acquire(target: "a", holder: "h", ttlSeconds: 1, nowUnixMilliseconds: 0, newID: nextID)
        else { return XCTFail() }
        XCTAssertEqual(try table.release(id: lease.id), lease)
        XCTAssertTrue(table.live(nowUnixMilliseconds: 0).isEmpty)
    }

    func testALeaseBoundToAProcessWithoutATTLNeverExpiresByTimeAndEndsWithItsProcess() throws {
        var table = LeaseTable()
        let wrapper = ProcessIdentity(pid: 4121, startTime: 88_000)
        let change = try table.acquire(
            target: "agent", holder: "run/4121", holderProcess: wrapper, ttlSeconds: 0, nowUnixMilliseconds: 0, newID: nextID)
        guard case .created(let lease) = change else { return XCTFail("\(change)") }
        XCTAssertFalse(lease.expiresByTime)
        _ = try table.acquire(target: "tools", holder: "h", ttlSeconds: 10, nowUnixMilliseconds: 0, newID: nextID)
        XCTAssertEqual(table.expire(nowUnixMilliseconds: Int64(LeaseTable.maxTTLSeconds) * 1000 * 100).map(\.target), ["tools"])
        XCTAssertEqual(table.holderProcesses, [wrapper])
        // Another process with the pid reused is not the holder.
        XCTAssertEqual(table.end(heldBy: ProcessIdentity(pid: 4121, startTime: 99_000)), [])
        XCTAssertEqual(table.end(heldBy: wrapper).map(\.id), [lease.id])
        XCTAssertTrue(table.leases.isEmpty)
    }

    func testTheSameHolderFromAnotherProcessGetsALeaseOfItsOwn() throws {
        var table = LeaseTable()
        let first = ProcessIdentity(pid: 10, startTime: 1)
        let second = ProcessIdentity(pid: 11, startTime: 2)
        _ = try table.acquire(target: "agent", holder: "hook", holderProcess: first, ttlSeconds: 0, nowUnixMilliseconds: 0, newID: nextID)
        let again = try table.acquire(
            target: "agent", holder: "hook", holderProcess: first, ttlSeconds: 0, nowUnixMilliseconds: 0, newID: nextID)
        let other = try table.acquire(
            target: "agent", holder: "hook", holderProcess: second, ttlSeconds: 0, nowUnixMilliseconds: 0, newID: nextID)
        guard case .renewed = again, case .created = other else { return XCTFail("\(again) \(other)") }
        XCTAssertEqual(table.leases.count, 2)
    }

    func testNoTTLIsRefusedWithoutAHolderProcess() {
        var table = LeaseTable()
        XCTAssertThrowsError(try table.acquire(target: "agent", holder: "h", ttlSeconds: 0, nowUnixMilliseconds: 0, newID: nextID)) {
            guard case .invalid = $0 as? LeaseError else { return XCTFail("\($0)") }
        }
    }
}
