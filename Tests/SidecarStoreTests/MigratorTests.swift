import Foundation
import XCTest

@testable import SidecarStore

final class MigratorTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testFreshStateIsCreatedInWALModeAndMigrated() throws {
        let database = try StateSchema.open(stateDirectory: directory)
        XCTAssertEqual(try database.scalarText("PRAGMA journal_mode"), "wal")
        XCTAssertEqual(try Migrator.currentVersion(database), StateSchema.migrations.last?.version)
        XCTAssertNotNil(try database.scalarText("SELECT name FROM sqlite_master WHERE name = 'daemon_meta'"))
    }

    func testMigrationsRunOnceAndInOrder() throws {
        let database = try Database(path: directory + "/m.db")
        let steps = [
            Migration(version: 2, name: "second", sql: "INSERT INTO log VALUES ('second')"),
            Migration(version: 1, name: "first", sql: "CREATE TABLE log (entry TEXT)"),
        ]
        XCTAssertEqual(try Migrator.migrate(database, steps), [1, 2])
        XCTAssertEqual(try Migrator.migrate(database, steps), [], "a second run applies nothing")
        XCTAssertEqual(try database.query("SELECT entry FROM log"), [["second"]])
        let next = steps + [Migration(version: 3, name: "third", sql: "INSERT INTO log VALUES ('third')")]
        XCTAssertEqual(try Migrator.migrate(database, next), [3])
    }

    func testFailedMigrationLeavesNoTrace() throws {
        let database = try Database(path: directory + "/f.db")
        let steps = [
            Migration(version: 1, name: "ok", sql: "CREATE TABLE a (x)"),
            Migration(version: 2, name: "broken", sql: "CREATE TABLE b (y); INSERT INTO nowhere VALUES (1)"),
        ]
        XCTAssertThrowsError(try Migrator.migrate(database, steps))
        XCTAssertEqual(try Migrator.currentVersion(database), 1)
        XCTAssertNil(try database.scalarText("SELECT name FROM sqlite_master WHERE name = 'b'"), "version 2 rolled back whole")
    }

    func testNewerSchemaIsRefused() throws {
        let database = try Database(path: directory + "/n.db")
        try Migrator.migrate(database, [Migration(version: 9, name: "future", sql: "CREATE TABLE z (x)")])
        XCTAssertThrowsError(try Migrator.migrate(database, [Migration(version: 1, name: "old", sql: "SELECT 1")])) { error in
            XCTAssertTrue("\(error)".contains("newer than this sidecard knows"), "\(error)")
        }
    }

    func testReadOnlyOpenCreatesNothing() throws {
        let path = directory + "/absent.db"
        XCTAssertThrowsError(try Database(path: path, mode: .readOnly))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
