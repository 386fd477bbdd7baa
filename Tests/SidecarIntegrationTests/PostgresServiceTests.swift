import Foundation
import SidecarTestSupport
import XCTest

/// The real PostgreSQL the database tests run against: it answers queries,
/// refuses them while stopped, and keeps a committed row across an
/// immediate stop (no checkpoint, as at a crash) and a start.
final class PostgresServiceTests: XCTestCase {
    func testACommittedRowOutlivesAnImmediateStop() throws {
        guard PostgresService.isInstalled else { throw XCTSkip("postgresql missing (scripts/install-deps.sh test installs it)") }
        let postgres = try PostgresService()
        XCTAssertEqual(postgres.connectionString, "host=127.0.0.1 port=\(postgres.port) dbname=sidecar user=postgres")
        XCTAssertEqual(try postgres.query("SHOW fsync"), [["on"]])
        XCTAssertEqual(try postgres.query("SELECT current_database(), current_user"), [["sidecar", "postgres"]])

        XCTAssertEqual(try postgres.query("CREATE TABLE leases (id int PRIMARY KEY, holder text, note text)"), [])
        XCTAssertEqual(try postgres.query("INSERT INTO leases VALUES (1, 'job a', NULL), (2, 'job b', 'kept')"), [])
        XCTAssertEqual(try postgres.query("SELECT id, holder, note FROM leases ORDER BY id"), [["1", "job a", ""], ["2", "job b", "kept"]])
        XCTAssertEqual(try postgres.query("SELECT id FROM leases WHERE false"), [])
        XCTAssertThrowsError(try postgres.query("SELECT * FROM no_such_table"))

        try postgres.stop(immediate: true)
        XCTAssertThrowsError(try postgres.query("SELECT 1"), "a stopped server answered")

        try postgres.start()
        XCTAssertEqual(try postgres.query("SELECT id, holder, note FROM leases ORDER BY id"), [["1", "job a", ""], ["2", "job b", "kept"]])
        try postgres.stop(immediate: false)
        try postgres.start()
        XCTAssertEqual(try postgres.query("SELECT count(*) FROM leases"), [["2"]])
    }

    /// deinit leaves no server running and no folder behind.
    func testDeinitStopsTheServerAndRemovesItsFolder() throws {
        guard PostgresService.isInstalled else { throw XCTSkip("postgresql missing (scripts/install-deps.sh test installs it)") }
        var postgres: PostgresService? = try PostgresService()
        let directory = try XCTUnwrap(postgres).directory
        let pidText = try String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8)
        let pid = try XCTUnwrap(pidText.split(separator: "\n").first.flatMap { Int32($0) })
        XCTAssertEqual(try XCTUnwrap(postgres).query("SELECT 1"), [["1"]])
        postgres = nil
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory))
        // Dead, or a zombie that PID 1 has not reaped.
        let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
            .split(separator: ")").last?.split(separator: " ").first
        XCTAssert(state == nil || state == "Z", "postmaster \(pid) still running (state \(state.map(String.init) ?? "?"))")
    }
}
