import SidecarCore
import XCTest

@testable import SidecarWire

/// The hand-written envelope coding must agree with protobuf-c byte for byte.
final class EnvelopeCodingTests: XCTestCase {
    private let serverFrames: [ServerFrame] = [
        .reply(id: 1, payload: []),
        .reply(id: 300, payload: Array(repeating: 7, count: 200)),
        .reply(id: UInt64.max, error: SidecarError(.deadlineExceeded, "deadline of 5 ms exceeded")),
        .goAway(SidecarError(.unavailable, "idle for 5m — closing")),
        ServerFrame(callID: 9, kind: .streamMessage, payload: [1, 2, 3]),
        ServerFrame(
            kind: .helloAck, protocolVersion: 1, serverVersion: "0.1.0", maxMessageBytes: 4_194_304,
            maxInflightCalls: 256),
        ServerFrame(kind: .unspecified),
    ]

    func testServerFrameEncodingMatchesProtobufC() throws {
        for frame in serverFrames {
            var handWritten: [UInt8] = []
            frame.append(to: &handWritten)
            XCTAssertEqual(handWritten, frame.protobufCFrameBytes(), "\(frame)")
            let decoded = try Array(handWritten[4...]).withUnsafeBytes { try ServerFrame(frameBody: $0) }
            XCTAssertEqual(decoded, frame)
        }
    }

    func testFramesWrittenIntoAConnectionsOutputMatchProtobufC() {
        let output = ProtobufWriter(capacity: 8)
        var expected: [UInt8] = []
        for (id, payload) in [(UInt64(1), [UInt8]()), (300, Array(repeating: 7, count: 200)), (UInt64.max, [1])] {
            payload.withUnsafeBytes { ServerFrame.writeReply(callID: id, payload: $0, to: output) }
            expected += ServerFrame.reply(id: id, payload: payload).protobufCFrameBytes()
        }
        for frame in serverFrames {
            frame.write(to: output)
            expected += frame.protobufCFrameBytes()
        }
        XCTAssertEqual(output.bytes, expected)
        output.reset(keepingCapacityUpTo: 16)
        XCTAssertEqual(output.count, 0)
        ServerFrame.goAway(SidecarError(.unavailable, "bye")).write(to: output)
        XCTAssertEqual(output.bytes, ServerFrame.goAway(SidecarError(.unavailable, "bye")).protobufCFrameBytes())
    }

    func testClientFrameViewReadsWhatProtobufCWrites() throws {
        let frames: [ClientFrame] = [
            .hello(protocolVersion: 1, clientName: "runner/1.2"),
            .call(id: 1, method: "Health", payload: []),
            .call(id: 1 << 40, method: "Debug.Sleep", timeoutMilliseconds: 1500, payload: Array(repeating: 0xEE, count: 300)),
            .cancel(id: 17),
        ]
        for frame in frames {
            let body = Array(frame.frameBytes()[4...])
            try body.withUnsafeBytes { raw in
                let view = try ClientFrameView(frameBody: raw)
                XCTAssertEqual(view.callID, frame.callID)
                XCTAssertEqual(view.kind, frame.kind)
                XCTAssertEqual(view.method, frame.method)
                XCTAssertEqual(view.timeoutMilliseconds, frame.timeoutMilliseconds)
                XCTAssertEqual(Array(view.payload), frame.payload)
                XCTAssertEqual(view.protocolVersion, frame.protocolVersion)
            }
        }
    }

    func testClientFrameViewSkipsUnknownFieldsAndRejectsBrokenOnes() throws {
        // call_id=5, an unknown field 15 (varint), an unknown fixed64 field 16, method "Health".
        let withUnknown: [UInt8] = [0x08, 0x05, 0x78, 0x01, 0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, 0x06] + Array("Health".utf8)
        let view = try withUnknown.withUnsafeBytes { try ClientFrameView(frameBody: $0) }
        XCTAssertEqual(view.callID, 5)
        XCTAssertEqual(view.method, "Health")

        let broken: [[UInt8]] = [
            [0x1a, 0x7f, 0x41],  // a string longer than the body
            [0x08],  // a varint cut short
            [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],  // an 11-byte varint
            [0x0b],  // a group (wire type 3)
            [0x00, 0x01],  // field number 0
            [0x0a, 0x00],  // call_id with the wrong wire type
        ]
        for bytes in broken {
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try ClientFrameView(frameBody: $0) }, "\(bytes)")
        }
    }

    func testRandomBytesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? bytes.withUnsafeBytes { try ClientFrameView(frameBody: $0) }
        }
    }
}
