import Foundation
import SidecarCore
import XCTest

@testable import SidecarStore

final class LeaseStoreTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-leases-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testALeaseWrittenBeforeHolderProcessesExistedKeepsItsRowAndHasNoProcess() throws {
        let database = try Database(path: directory + "/" + StateSchema.fileName)
        try Migrator.migrate(database, StateSchema.migrations.filter { $0.version <= 4 })
        try database.execute("INSERT INTO leases (id, target, holder, expires_unix_ms) VALUES ('lease-old', 'agent', 'runner-1', 42)")
        try Migrator.migrate(database, StateSchema.migrations)
        XCTAssertEqual(
            try LeaseStore(database: database).loadAll(),
            [LeaseRecord(id: "lease-old", target: "agent", holder: "runner-1", expiresUnixMilliseconds: 42)])
    }

    func testAHolderProcessAndNoExpiryRoundTrip() throws {
        let store = LeaseStore(database: try StateSchema.open(stateDirectory: directory))
        let bound = LeaseRecord(
            id: "lease-1", target: "agent", holder: "container/abc", expiresUnixMilliseconds: LeaseRecord.noExpiry,
            holderProcess: ProcessIdentity(pid: 4121, startTime: 123_456_789))
        try store.save(bound)
        XCTAssertEqual(try StateSchema.open(stateDirectory: directory).query("SELECT COUNT(*) FROM leases"), [["1"]])
        XCTAssertEqual(try LeaseStore(database: try StateSchema.open(stateDirectory: directory)).loadAll(), [bound])
    }
}
