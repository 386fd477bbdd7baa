import Foundation
import XCTest

/// `log_format` / `--log-format`: every line of the daemon's log in the
/// format asked for, and no timestamp of its own under journald.
final class LogFormatTests: XCTestCase {
    private func lines(arguments: [String] = [], environment: [String: String] = [:]) throws -> [String] {
        let daemon = try DaemonProcess(arguments: arguments, environment: environment)
        // A bad request makes a warning with a quote and a newline in it.
        _ = try? CommandResult.sidecarctl(["check-db", "relative\"path\nx", "--socket", daemon.socketPath])
        let lines = daemon.log.split(separator: "\n").map(String.init)
        XCTAssertGreaterThan(lines.count, 1, daemon.log)
        return lines
    }

    func testJSONLinesAreObjectsWithTimeLevelAndMessage() throws {
        for line in try lines(arguments: ["--log-format", "json"]) {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], line)
            XCTAssertNotNil(object["time"], line)
            XCTAssertNotNil(object["level"], line)
            XCTAssertFalse(object["msg"]?.isEmpty ?? true, line)
            XCTAssertNotNil(object["pid"], line)
        }
    }

    func testLogfmtLinesArePairs() throws {
        let pair = try NSRegularExpression(pattern: #"^time=\S+ level=[a-z]+ msg=("([^"\\]|\\.)*"|\S+)( [a-z_]+=("([^"\\]|\\.)*"|\S+))*$"#)
        for line in try lines(arguments: ["--log-format", "logfmt"]) {
            XCTAssertEqual(pair.numberOfMatches(in: line, range: NSRange(line.startIndex..., in: line)), 1, line)
        }
    }

    func testUnderJournaldNoLineCarriesATimestamp() throws {
        for line in try lines(environment: ["JOURNAL_STREAM": "8:12345"]) {
            XCTAssertFalse(line.first?.isNumber ?? true, line)
        }
        for line in try lines(arguments: ["--log-format", "json"], environment: ["JOURNAL_STREAM": "8:12345"]) {
            XCTAssertFalse(line.contains("\"time\""), line)
        }
    }
}
