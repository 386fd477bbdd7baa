import XCTest

@testable import SidecarCore

final class DatabaseRulesTests: XCTestCase {
    func testRootsAreMatchedByWholeComponents() {
        let roots = DatabaseRoots(resolvedRoots: ["/data", "/var/lib/agents/"])
        XCTAssertTrue(roots.contains(resolvedPath: "/data"))
        XCTAssertTrue(roots.contains(resolvedPath: "/data/a/b.db"))
        XCTAssertTrue(roots.contains(resolvedPath: "/var/lib/agents/x.db"))
        XCTAssertFalse(roots.contains(resolvedPath: "/data-evil/x.db"), "a prefix is not a parent")
        XCTAssertFalse(roots.contains(resolvedPath: "/dat"))
        XCTAssertFalse(roots.contains(resolvedPath: "/etc/passwd"))
        XCTAssertFalse(DatabaseRoots(resolvedRoots: []).contains(resolvedPath: "/data/x.db"), "no roots, nothing inside")
    }

    func testStreaksCountPerClientAndFileAndReset() {
        var streaks = CorruptionStreaks(threshold: 10)
        XCTAssertEqual(streaks.record(.corruption, client: "a", path: "/x", now: 0), 1)
        XCTAssertEqual(streaks.record(.corruption, client: "a", path: "/x", now: 1), 2)
        XCTAssertEqual(streaks.record(.corruption, client: "b", path: "/x", now: 1), 1, "per client")
        XCTAssertEqual(streaks.record(.corruption, client: "a", path: "/y", now: 1), 1, "per file")
        XCTAssertEqual(streaks.record(.success, client: "a", path: "/x", now: 2), 0)
        XCTAssertEqual(streaks.record(.corruption, client: "a", path: "/x", now: 3), 1, "a success reset it")
        XCTAssertEqual(streaks.record(.otherError, client: "a", path: "/x", now: 4), 0)
        XCTAssertEqual(streaks.record(.corruption, client: "a", path: "/x", now: 5), 1, "an unrelated error reset it")
    }

    func testIdleClientsAreForgotten() {
        var streaks = CorruptionStreaks(threshold: 10)
        _ = streaks.record(.corruption, client: "gone", path: "/x", now: 0)
        _ = streaks.record(.corruption, client: "here", path: "/x", now: 3000)
        XCTAssertEqual(streaks.forgetIdle(now: 3600, idleSeconds: 3600), 1)
        XCTAssertEqual(streaks.trackedCount, 1)
        XCTAssertEqual(streaks.record(.corruption, client: "gone", path: "/x", now: 3601), 1, "it starts over")
    }
}
