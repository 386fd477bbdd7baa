import SidecarCore
import XCTest

@testable import SidecarWire

final class MessageCodingTests: XCTestCase {
    private func decodeOneFrame(_ bytes: [UInt8]) -> [UInt8] {
        XCTAssertGreaterThanOrEqual(bytes.count, 4)
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        XCTAssertEqual(length, bytes.count - 4, "the header counts the body")
        return Array(bytes[4...])
    }

    func testClientFrameRoundTrip() throws {
        let frame = ClientFrame.call(id: 77, method: "Classify", timeoutMilliseconds: 1500, payload: [1, 2, 3])
        let body = decodeOneFrame(frame.frameBytes())
        let decoded = try body.withUnsafeBytes { try ClientFrame(frameBody: $0) }
        XCTAssertEqual(decoded, frame)
    }

    func testServerFrameRoundTripKeepsStatus() throws {
        let frame = ServerFrame.reply(id: 9, error: SidecarError(.permissionDenied, "not an admin"))
        let decoded = try decodeOneFrame(frame.frameBytes()).withUnsafeBytes { try ServerFrame(frameBody: $0) }
        XCTAssertEqual(decoded.statusCode, .permissionDenied)
        XCTAssertEqual(decoded.statusMessage, "not an admin")
        XCTAssertEqual(decoded.callID, 9)
        XCTAssertEqual(decoded.kind, .reply)
    }

    func testHelloFrameMatchesTheDocumentedBytes() {
        // proto/sidecar/v1/README.md shows these bytes; a client in another
        // language is written from them.
        XCTAssertEqual(ClientFrame.hello(protocolVersion: 1, clientName: "").frameBytes(), [0, 0, 0, 4, 0x10, 0x01, 0x30, 0x01])
        XCTAssertEqual(
            ClientFrame.call(id: 1, method: "Health", payload: []).frameBytes(),
            [0, 0, 0, 0x0c, 0x08, 0x01, 0x10, 0x02, 0x1a, 0x06] + Array("Health".utf8))
    }

    func testClassifyRequestKeepsPresenceOfCodes() throws {
        let withCodes = ClassifyRequest(report: FailureReport(message: "x", exitCode: 0, sqliteCode: 267))
        XCTAssertEqual(try ClassifyRequest(wireBytes: withCodes.wireBytes()), withCodes)
        let withoutCodes = ClassifyRequest(report: FailureReport(message: "x"))
        let decoded = try ClassifyRequest(wireBytes: withoutCodes.wireBytes())
        XCTAssertNil(decoded.report.exitCode, "an absent exit code must not come back as 0")
        XCTAssertNil(decoded.report.sqliteCode)
    }

    func testEventRoundTripWithAttributes() throws {
        let event = SidecarEvent(
            topic: "config.reloaded", timeUnixMilliseconds: 1_700_000_000_123, subject: "/etc/sidecar.toml",
            message: "ok", attributes: ["needs_restart": "socket", "empty": ""])
        XCTAssertEqual(try SidecarEvent(wireBytes: event.wireBytes()), event)
    }

    func testRepeatedStringsRoundTrip() throws {
        let request = WatchRequest(topics: ["image.", "", "retry.denied"])
        XCTAssertEqual(try WatchRequest(wireBytes: request.wireBytes()), request)
        let reload = ReloadResponse(configPath: "/x", needsRestart: ["socket", "state_dir"])
        XCTAssertEqual(try ReloadResponse(wireBytes: reload.wireBytes()), reload)
    }

    func testHealthResponseRoundTrip() throws {
        let health = HealthResponse(
            version: "0.1.0", uptimeSeconds: 12.5, connections: 3, inflightCalls: 2, loopLagMilliseconds: 0.25,
            loopLagMaxMilliseconds: 4, pid: 4242, state: "serving")
        XCTAssertEqual(try HealthResponse(wireBytes: health.wireBytes()), health)
    }

    func testGarbageIsRejected() {
        // A length-delimited field whose length runs past the end.
        let garbage: [UInt8] = [0x1a, 0x7f, 0x41]
        XCTAssertThrowsError(try garbage.withUnsafeBytes { try ClientFrame(frameBody: $0) })
        XCTAssertThrowsError(try ClassifyRequest(wireBytes: [0xff, 0xff, 0xff]))
    }

    func testFieldlessMessagesSkipUnknownFieldsAndRejectMalformedBytes() throws {
        XCTAssertEqual(try HealthRequest(wireBytes: []), HealthRequest())
        // An unknown varint field 1 = 5: a newer peer's field.
        XCTAssertEqual(try ReloadRequest(wireBytes: [0x08, 0x05]), ReloadRequest())
        XCTAssertThrowsError(try MetricsRequest(wireBytes: [0x0a, 0x7f, 0x41])) { error in
            XCTAssertEqual("\(error)", "malformed empty message (3 bytes)")
        }
    }
}
