import CProtobufC
import SidecarCore
import XCTest

@testable import SidecarWire

/// protobuf-c packs a C string up to its first NUL, so a Swift string
/// holding one would go out cut ("alias\0A" as "alias"). What a client
/// sends is refused instead, naming the field, wherever the string sits.
final class OutgoingStringTests: XCTestCase {
    private func refusal(_ message: some WireMessage) -> SidecarError? {
        do {
            _ = try message.wireBytesForSending()
            return nil
        } catch {
            return error as? SidecarError
        }
    }

    func testAStringWithNULIsRefusedNamingItsField() throws {
        let key = try XCTUnwrap(refusal(ReserveRetrySlotRequest(key: "alias\u{0}A", lastError: "x", exitCode: 125)))
        XCTAssertEqual(key.code, .invalidArgument)
        XCTAssertEqual(key.message, "not sent: field key of sidecar.v1.ReserveRetrySlotRequest holds a NUL byte")
        XCTAssertEqual(
            refusal(ReserveRetrySlotRequest(key: "k", lastError: "x\u{0}ErrImageNeverPull"))?.message,
            "not sent: field last_error of sidecar.v1.ReserveRetrySlotRequest holds a NUL byte")
        XCTAssertEqual(
            refusal(ClientFrame.hello(protocolVersion: 1, clientName: "runner\u{0}7"))?.message,
            "not sent: field client_name of sidecar.v1.ClientFrame holds a NUL byte")
        XCTAssertThrowsError(try ClientFrame.hello(protocolVersion: 1, clientName: "runner\u{0}7").frameBytesForSending())
    }

    func testRepeatedNestedAndMapStringsAreCheckedToo() {
        XCTAssertEqual(
            refusal(WatchRequest(topics: ["image.", "retry.\u{0}denied"]))?.message,
            "not sent: field topics of sidecar.v1.WatchRequest holds a NUL byte")
        let lease = LeaseRecord(id: "l1", target: "agent", holder: "runner\u{0}", expiresUnixMilliseconds: 5)
        XCTAssertEqual(
            refusal(ListLeasesResponse(leases: [LeaseRecord(id: "l0", target: "a", holder: "h", expiresUnixMilliseconds: 5), lease]))?
                .message,
            "not sent: field holder of sidecar.v1.Lease holds a NUL byte")
        let event = SidecarEvent(topic: "t", timeUnixMilliseconds: 1, subject: "s", message: "m", attributes: ["a": "1", "b": "2\u{0}"])
        XCTAssertEqual(refusal(event)?.message, "not sent: field value of sidecar.v1.Event.AttributesEntry holds a NUL byte")
    }

    /// Strings without NUL go out as `wireBytes()` writes them.
    func testCleanMessagesAreSentAsWritten() throws {
        let messages: [any WireMessage] = [
            ReserveRetrySlotRequest(key: "pull:é 日本", policy: "provision", lastError: "x", exitCode: 0, image: "agent:1"),
            WatchRequest(topics: ["", "image."]),
            SidecarEvent(topic: "t", timeUnixMilliseconds: 1, subject: "s", message: "", attributes: ["a": ""]),
        ]
        for message in messages { XCTAssertEqual(try message.wireBytesForSending(), message.wireBytes(), "\(message)") }
    }

    func testTheLabelAndFlagNumbersAreProtobufCs() throws {
        let topics = try XCTUnwrap(protobuf_c_message_descriptor_get_field(WatchRequest.descriptor, 1))
        XCTAssertEqual(topics.pointee.label.rawValue, PackArena.repeatedLabel)
        let key = try XCTUnwrap(protobuf_c_message_descriptor_get_field(ReserveRetrySlotRequest.descriptor, 1))
        XCTAssertNotEqual(key.pointee.label.rawValue, PackArena.repeatedLabel)
        XCTAssertEqual(key.pointee.flags & PackArena.oneofFlag, 0)
        let exitCode = try XCTUnwrap(protobuf_c_message_descriptor_get_field(ReserveRetrySlotRequest.descriptor, 4))
        XCTAssertNotEqual(exitCode.pointee.flags & PackArena.oneofFlag, 0, "proto3 optional is a oneof of one")
    }
}
