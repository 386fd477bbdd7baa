import Foundation
import SidecarTestSupport
import XCTest

@testable import SidecarImageBackends

/// The pieces the docker backend is made of: the build context as tar, and
/// JSON streams cut anywhere.
final class DockerBackendPartsTests: XCTestCase {
    func testTheBuildContextIsATarThatTarReads() throws {
        let directory = "/tmp/sc-tar-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let deep = directory + "/" + String(repeating: "long-folder-name/", count: 7)
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        try "FROM scratch\n".write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: deep + "/data.bin"))
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: "Dockerfile")
        let archive = try BuildContextArchive.make(directory: directory)
        XCTAssertEqual(archive.count % 512, 0)
        try Data(archive).write(to: URL(fileURLWithPath: directory + ".tar"))
        defer { try? FileManager.default.removeItem(atPath: directory + ".tar") }

        let listing = try ToolRun.run("/usr/bin/tar", ["-tvf", directory + ".tar"])
        XCTAssertEqual(listing.status, 0, listing.output)
        XCTAssertTrue(listing.output.contains("Dockerfile"), listing.output)
        XCTAssertTrue(listing.output.contains("link -> Dockerfile"), listing.output)
        XCTAssertTrue(listing.output.contains(String(repeating: "long-folder-name/", count: 7) + "data.bin"), listing.output)
        XCTAssertTrue(listing.output.contains(" 1000 "), "the file's size: \(listing.output)")
    }

    func testAMissingContextIsAClearError() {
        XCTAssertThrowsError(try BuildContextArchive.make(directory: "/nonexistent/context")) {
            XCTAssertTrue("\($0)".contains("/nonexistent/context"))
        }
    }

    func testJSONLinesCutAnywhereComeOutWhole() {
        let stream = #"{"stream":"STEP 1/2"}"# + "\n" + #"{"errorDetail":{"message":"boom"}}"# + "\nnot json\n" + #"{"aux":{"ID":"sha256:1"}}"#
        let bytes = Array(stream.utf8)
        for cut in [1, 5, 17, bytes.count - 3] {
            var lines = JSONLines()
            var objects: [[String: Any]] = []
            bytes[..<cut].withUnsafeBytes { objects += lines.feed($0) }
            bytes[cut...].withUnsafeBytes { objects += lines.feed($0) }
            objects += lines.finish()
            XCTAssertEqual(objects.count, 3, "cut at \(cut)")
            XCTAssertEqual(objects.first?["stream"] as? String, "STEP 1/2")
            XCTAssertEqual((objects.last?["aux"] as? [String: Any])?["ID"] as? String, "sha256:1")
        }
    }
}
