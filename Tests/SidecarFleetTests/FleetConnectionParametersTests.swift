import SidecarFleet
import SidecarPostgres
import XCTest

/// What the daemon passes libpq: the operator's string taken apart by libpq,
/// then the session bounds the daemon needs, and what it refuses.
final class FleetConnectionParametersTests: XCTestCase {
    private func parameters(_ text: String, password: String? = nil) throws -> [String: String] {
        let list = try FleetLink.connectionParameters(text, password: password, hostID: "node-7", statementTimeoutMilliseconds: 2000)
        return Dictionary(list, uniquingKeysWith: { $1 })
    }

    func testTheOperatorsKeywordsAndTheDaemonsSessionBounds() throws {
        let given = try parameters("hostaddr=10.0.0.5 port=6432 dbname=sidecar user=sc options='-c search_path=fleet'", password: "s3cret")
        XCTAssertEqual(given["hostaddr"], "10.0.0.5")
        XCTAssertEqual(given["port"], "6432")
        XCTAssertEqual(given["dbname"], "sidecar")
        XCTAssertEqual(given["password"], "s3cret")
        XCTAssertEqual(given["keepalives_idle"], "5")
        XCTAssertEqual(given["fallback_application_name"], "sidecard node-7")
        let options = try XCTUnwrap(given["options"])
        XCTAssertTrue(options.hasPrefix("-c search_path=fleet "), options)
        XCTAssertTrue(options.contains("-c statement_timeout=2000"), options)
        XCTAssertTrue(options.contains("-c idle_in_transaction_session_timeout="), options)
        // A URI works as well as keywords.
        XCTAssertEqual(try parameters("postgresql://sc@127.0.0.1:5433/sidecar")["port"], "5433")
        // A socket folder and numeric hosts need no lookup.
        XCTAssertEqual(try parameters("host=/run/postgresql dbname=s")["host"], "/run/postgresql")
        XCTAssertEqual(try parameters("host=::1 dbname=s")["host"], "::1")
    }

    func testAPasswordInTheStringAndNonsenseAreRefused() {
        XCTAssertThrowsError(try parameters("hostaddr=10.0.0.5 password=hunter2")) { error in
            XCTAssertTrue("\(error)".contains("password_file"), "\(error)")
        }
        XCTAssertThrowsError(try parameters("dbname=s nonsense=1")) { error in
            XCTAssertTrue("\(error)".contains("nonsense"), "\(error)")
        }
    }
}
