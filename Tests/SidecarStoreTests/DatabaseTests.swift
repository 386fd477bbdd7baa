import Foundation
import XCTest

@testable import SidecarStore

final class DatabaseTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-db-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private struct Refused: Error {}

    /// The prepared BEGIN, COMMIT and ROLLBACK are used again and again, a
    /// failed body rolls back whole, and a database that ran transactions is
    /// still released (and closed) when its last owner lets go.
    func testTransactionsCommitRollBackAndLeaveTheDatabaseReleasable() throws {
        weak var released: Database?
        do {
            let database = try Database(path: directory + "/t.db")
            try database.execute("CREATE TABLE t (x TEXT)")
            let insert = try database.statement("INSERT INTO t VALUES (?1)")
            for index in 0..<3 {
                try database.transaction { try insert.run { try $0.append("kept \(index)") } }
            }
            XCTAssertThrowsError(try database.transaction {
                try insert.run { try $0.append("") }
                throw Refused()
            })
            XCTAssertEqual(try database.query("SELECT x FROM t ORDER BY x"), [["kept 0"], ["kept 1"], ["kept 2"]])
            released = database
        }
        XCTAssertNil(released, "nothing the database holds keeps it alive")
    }

    /// Empty text is bound as text, not as NULL.
    func testEmptyTextIsBoundAsText() throws {
        let database = try Database(path: directory + "/e.db")
        try database.execute("CREATE TABLE t (x TEXT)")
        try database.statement("INSERT INTO t VALUES (?1)").run { try $0.append("") }
        try database.statement("INSERT INTO t VALUES (?1)").run([.null])
        XCTAssertEqual(try database.query("SELECT typeof(x) FROM t ORDER BY rowid"), [["text"], ["null"]])
    }
}
