import Foundation
import XCTest

/// A Python client written from the framing document alone, using Google's
/// protobuf package and code that protoc generates from proto/.
final class InteropTests: XCTestCase {
    func testPythonClientCallsHealthAndClassify() throws {
        let daemon = try DaemonProcess()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Interop/interop_client.py").standardizedFileURL.path
        // Debian's python3 with Debian's python3-protobuf, installed by scripts/test.sh.
        let result = try CommandResult.run("/usr/bin/python3", [script, daemon.socketPath])
        XCTAssertEqual(result.status, 0, "python client failed (scripts/test.sh installs protobuf and protoc):\n\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let answer = try XCTUnwrap(object, result.stdout)
        XCTAssertEqual(answer["health_state"] as? String, "serving")
        XCTAssertEqual((answer["health_pid"] as? NSNumber)?.int32Value, daemon.pid)
        XCTAssertEqual(answer["category"] as? String, "image_missing")
        XCTAssertEqual(answer["permanent"] as? Bool, true)
        XCTAssertTrue((answer["remedy"] as? String)?.contains("optio-node:latest") ?? false)
        XCTAssertEqual(answer["exit_125_category"] as? String, "container_runtime")
        XCTAssertEqual((answer["max_message_bytes"] as? NSNumber)?.intValue, 4 * 1024 * 1024)
    }
}
