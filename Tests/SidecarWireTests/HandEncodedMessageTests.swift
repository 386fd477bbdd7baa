import SidecarCore
import XCTest

@testable import SidecarWire

/// The replies encoded by hand on the hot path must be byte-equal to what
/// protobuf-c writes for the same values, defaults and edge values included.
final class HandEncodedMessageTests: XCTestCase {
    func testHealthResponseMatchesProtobufC() throws {
        let responses = [
            HealthResponse(
                version: "0.1.0", uptimeSeconds: 12.5, connections: 3, inflightCalls: 1, loopLagMilliseconds: 0.02,
                loopLagMaxMilliseconds: 4.75, pid: 4242, state: "serving", imagePresence: "events"),
            HealthResponse(
                version: "", uptimeSeconds: 0, connections: 0, inflightCalls: 0, loopLagMilliseconds: 0,
                loopLagMaxMilliseconds: 0, pid: 0, state: ""),
            HealthResponse(
                version: String(repeating: "v", count: 200), uptimeSeconds: -0.0, connections: UInt32.max,
                inflightCalls: 128, loopLagMilliseconds: .infinity, loopLagMaxMilliseconds: .leastNonzeroMagnitude,
                pid: 1, state: "draining — ünïcode", imagePresence: "ttl: the layout is on nfs"),
            HealthResponse(
                version: "0.1.0", uptimeSeconds: 1, connections: 1, inflightCalls: 1, loopLagMilliseconds: 0,
                loopLagMaxMilliseconds: 0, pid: 7, state: "serving", imagePresence: "events",
                fleet: FleetHealth(
                    hostID: "node-7", state: "degraded", reason: "no connection within 2000 ms", sinceUnixSeconds: 1_764_600_000.25,
                    claims: ["agent (epoch 3)", ""], waits: ["base (claimed by node-2)"])),
            HealthResponse(
                version: "0.1.0", uptimeSeconds: 1, connections: 1, inflightCalls: 1, loopLagMilliseconds: 0,
                loopLagMaxMilliseconds: 0, pid: 7, state: "serving",
                fleet: FleetHealth(hostID: "n", state: "connected", reason: "", sinceUnixSeconds: 0)),
        ]
        for response in responses {
            let writer = ProtobufWriter()
            response.encode(into: writer)
            XCTAssertEqual(writer.bytes, response.protobufCWireBytes(), "\(response)")
            XCTAssertEqual(response.wireBytes(), writer.bytes)
            let decoded = try HealthResponse(wireBytes: writer.bytes)
            XCTAssertEqual(decoded.version, response.version)
            XCTAssertEqual(decoded.uptimeSeconds, response.uptimeSeconds)
            XCTAssertEqual(decoded.connections, response.connections)
            XCTAssertEqual(decoded.state, response.state)
            XCTAssertEqual(decoded.imagePresence, response.imagePresence)
            XCTAssertEqual(decoded.fleet, response.fleet)
        }
    }

    /// The daemon's Health path: the settled part encoded once, the moving
    /// fields per call, the same bytes as protobuf-c's; and settled again
    /// (a state or fleet change), nothing of the old part is left.
    func testHealthAnswerWritesWhatProtobufCWrites() throws {
        let answer = HealthAnswer()
        let writer = ProtobufWriter()
        let responses = [
            HealthResponse(
                version: "0.1.0", uptimeSeconds: 3.25, connections: 1, inflightCalls: 1, loopLagMilliseconds: 0.5,
                loopLagMaxMilliseconds: 1.5, pid: 99, state: "serving", imagePresence: "events",
                fleet: FleetHealth(
                    hostID: "node-1", state: "connected", reason: "", sinceUnixSeconds: 0, claims: ["agent (epoch 2)"], waits: [])),
            HealthResponse(
                version: "0.1.0", uptimeSeconds: 0, connections: 700, inflightCalls: 0, loopLagMilliseconds: 0,
                loopLagMaxMilliseconds: 0, pid: 99, state: "draining", imagePresence: "ttl: the layout is on nfs"),
            HealthResponse(
                version: "", uptimeSeconds: -0.0, connections: 0, inflightCalls: UInt32.max, loopLagMilliseconds: .infinity,
                loopLagMaxMilliseconds: 2, pid: 0, state: ""),
        ]
        for settled in responses {
            answer.settle(from: settled)
            // The moving fields of every response, over this settled part.
            for moving in responses {
                var expected = settled
                expected.uptimeSeconds = moving.uptimeSeconds
                expected.connections = moving.connections
                expected.inflightCalls = moving.inflightCalls
                expected.loopLagMilliseconds = moving.loopLagMilliseconds
                expected.loopLagMaxMilliseconds = moving.loopLagMaxMilliseconds
                writer.reset()
                answer.write(
                    uptimeSeconds: moving.uptimeSeconds, connections: moving.connections, inflightCalls: moving.inflightCalls,
                    loopLagMilliseconds: moving.loopLagMilliseconds, loopLagMaxMilliseconds: moving.loopLagMaxMilliseconds,
                    into: writer)
                XCTAssertEqual(writer.bytes, expected.protobufCWireBytes(), "\(expected)")
                XCTAssertEqual(try HealthResponse(wireBytes: writer.bytes), expected)
            }
        }
    }

    func testReserveRetrySlotResponseMatchesProtobufC() throws {
        let decisions: [RetryDecision] = [
            .granted(attempt: 1, delaySeconds: 1.5, notBefore: 1_764_600_000.25),
            .granted(attempt: 0, delaySeconds: 0, notBefore: 0),
            .granted(attempt: Int(UInt32.max) + 7, delaySeconds: -0.0, notBefore: -12.5),
            .deniedPermanent(category: "image_never_pull", remedy: "set imagePullPolicy — ünïcode"),
            .deniedPermanent(category: "", remedy: ""),
            .exhausted(attempts: 3, firstError: "connection reset by peer", lastError: String(repeating: "e", count: 300)),
            .exhausted(attempts: 0, firstError: "", lastError: ""),
            .throttled(retryAfterSeconds: 0.25),
            .throttled(retryAfterSeconds: 0),
        ]
        for decision in decisions {
            for answeredLocally in [false, true] {
                let response = ReserveRetrySlotResponse(decision: decision, answeredLocally: answeredLocally)
                let writer = ProtobufWriter()
                response.encode(into: writer)
                XCTAssertEqual(writer.bytes, response.protobufCWireBytes(), "\(response)")
                XCTAssertEqual(response.wireBytes(), writer.bytes)
            }
        }
    }

    func testAPresentEnsureImageResponseMatchesProtobufC() throws {
        for (name, ref, id) in [
            ("agent-base", "localhost/agent-base:latest", "sha256:" + String(repeating: "ab", count: 32)),
            ("", "registry.example.com:5000/team/tool@sha256:" + String(repeating: "0", count: 64), ""),
            (String(repeating: "n", count: 300), "x", "ïd"),
        ] {
            let writer = ProtobufWriter()
            EnsureImageResponse.encodePresent(name: name, ref: ref, id: id, into: writer)
            let general = EnsureImageResponse(answer: EnsureImageAnswer(outcome: .present, name: name, ref: ref, id: id))
            XCTAssertEqual(writer.bytes, general.wireBytes(), name)
            XCTAssertEqual(EnsureImageResponse.presentBytes(name: name, ref: ref, id: id), writer.bytes)
            XCTAssertEqual(try EnsureImageResponse(wireBytes: writer.bytes), general)
        }
    }

    /// The at-once reader takes only plain requests, with the values
    /// protobuf-c reads; anything else goes to the general path.
    func testTheEnsureImageRequestViewTakesOnlyWhatProtobufCReadsTheSame() throws {
        let plain = EnsureImageRequest(image: "localhost/agent-base:latest").wireBytes()
        let leased = EnsureImageRequest(
            image: "agent", leaseHolder: "runner-1", leaseTTLSeconds: 60, leaseHolderProcess: ProcessIdentity(pid: 7, startTime: 9)
        ).wireBytes()
        try plain.withUnsafeBytes { bytes in
            let view = try XCTUnwrap(EnsureImageRequestView(wireBytes: bytes))
            XCTAssertEqual(String(decoding: view.image, as: UTF8.self), "localhost/agent-base:latest")
            XCTAssertFalse(view.asksForLease)
        }
        try leased.withUnsafeBytes { bytes in
            let view = try XCTUnwrap(EnsureImageRequestView(wireBytes: bytes))
            XCTAssertTrue(view.asksForLease)
        }
        for declined: [UInt8] in [
            plain + [0x30, 0x01],  // an unknown field 6
            [0x0a, 0x03, 0x61, 0x00, 0x62],  // a NUL in the image
            [0x0a, 0x05, 0x61],  // a length past the end
            [0x08, 0x01],  // field 1 as a varint
        ] {
            declined.withUnsafeBytes { XCTAssertNil(EnsureImageRequestView(wireBytes: $0), "\(declined)") }
        }
    }

    func testClassifyResponseMatchesProtobufC() throws {
        let classifications = [
            Classification(category: "image_missing", permanent: true, remedy: "build it first", rule: "builtin:never-pull"),
            Classification(category: "", permanent: false, remedy: "", rule: ""),
            Classification(
                category: "transient", permanent: false, remedy: String(repeating: "r", count: 300), rule: "config:x"),
            Classification(category: "rate_limited", permanent: false, remedy: "wait", rule: "builtin:rate-limited", retryAfterSeconds: 60),
            Classification(category: "rate_limited", permanent: false, remedy: "", rule: "", retryAfterSeconds: 0.000333011),
        ]
        for classification in classifications {
            let response = ClassifyResponse(classification: classification)
            let writer = ProtobufWriter()
            response.encode(into: writer)
            XCTAssertEqual(writer.bytes, response.protobufCWireBytes(), "\(classification)")
            XCTAssertEqual(try ClassifyResponse(wireBytes: writer.bytes), response)
        }
    }

    func testWriterReusesItsBufferAcrossMessages() {
        let writer = ProtobufWriter(capacity: 16)
        writer.string(1, String(repeating: "x", count: 100))
        writer.reset()
        XCTAssertEqual(writer.count, 0)
        writer.uint32(3, 150)
        XCTAssertEqual(writer.bytes, [0x18, 0x96, 0x01])
        writer.reset()
        writer.int64(2, -1)
        XCTAssertEqual(writer.bytes, [0x10] + Array(repeating: 0xff, count: 9) + [0x01])
    }

    func testMessagesWithoutAHandEncodingGoThroughProtobufC() throws {
        let request = ClassifyRequest(report: FailureReport(message: "manifest unknown", exitCode: 125, sqliteCode: nil))
        let writer = ProtobufWriter()
        request.encode(into: writer)
        XCTAssertEqual(writer.bytes, request.wireBytes())
        XCTAssertFalse(writer.bytes.isEmpty)
    }
}

/// The request read by hand on the hot path must read what protobuf-c reads.
final class HandDecodedMessageTests: XCTestCase {
    func testClassifyRequestReadsWhatProtobufCReads() throws {
        let reports = [
            FailureReport(message: "Back-off pulling image \"agent:1\": ErrImageNeverPull"),
            FailureReport(message: "", exitCode: 0),
            FailureReport(message: "x", exitCode: -1, sqliteCode: 267),
            FailureReport(message: "", exitCode: nil, sqliteCode: Int32.min),
            FailureReport(message: String(repeating: "é", count: 500), exitCode: 125),
            FailureReport(message: "manifest unknown", image: "127.0.0.1:5000/agent/x:1"),
            FailureReport(message: "", sqliteCode: 5, image: "é/ü:1"),
        ]
        for report in reports {
            let bytes = ClassifyRequest(report: report).wireBytes()
            let byHand = try ClassifyRequest(wireBytes: bytes)
            let byProtobufC = try bytes.withUnsafeBytes { try ClassifyRequest(protobufCWireBytes: $0) }
            XCTAssertEqual(byHand, byProtobufC)
            XCTAssertEqual(byHand.report, report)
        }
    }

    func testClassifyRequestSkipsUnknownFieldsAndRejectsBrokenOnes() throws {
        // message "ab", an unknown varint field 9, exit_code 125.
        let withUnknown: [UInt8] = [0x0a, 0x02, 0x61, 0x62, 0x48, 0x07, 0x10, 0x7d]
        let request = try ClassifyRequest(wireBytes: withUnknown)
        XCTAssertEqual(request.report, FailureReport(message: "ab", exitCode: 125))
        XCTAssertEqual(try withUnknown.withUnsafeBytes { try ClassifyRequest(protobufCWireBytes: $0) }, request)

        let broken: [[UInt8]] = [
            [0x0a, 0x05, 0x61],  // a message longer than the body
            [0x10],  // an exit code cut short
            [0x08, 0x01],  // message as a varint
            [0x12, 0x01, 0x00],  // exit code as bytes
        ]
        for bytes in broken {
            XCTAssertThrowsError(try ClassifyRequest(wireBytes: bytes), "\(bytes)")
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try ClassifyRequest(protobufCWireBytes: $0) }, "\(bytes)")
        }
    }
}
