import CProtobufC
import SidecarCore
import SidecarWireAgreement
import XCTest

@testable import SidecarWire

/// The hand-written decoders of the hot path (ClientFrameView,
/// ClassifyRequestView) and protobuf-c must take and refuse the same bytes
/// and read the same values; strings must be valid UTF-8 without NUL in
/// both (two different keys must never read as one). The comparisons are
/// `SidecarWireAgreement`'s, which the fuzzer (scripts/fuzz.sh) runs too.
final class DecoderAgreementTests: XCTestCase {
    /// SplitMix64: a fixed seed, so a failure can be replayed.
    private struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    /// Byte sequences that break text: NUL, lone continuation, overlong
    /// NUL, a surrogate, past U+10FFFF, a truncated sequence.
    private static let badText: [[UInt8]] = [[0x00], [0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]]

    private func mutate(_ seed: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = seed
        for _ in 0...random.below(3) {
            switch random.below(5) {
            case 0 where !bytes.isEmpty: bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8))
            case 1: bytes.insert(contentsOf: Self.badText[random.below(Self.badText.count)], at: random.below(bytes.count + 1))
            case 2 where !bytes.isEmpty: bytes.removeSubrange(random.below(bytes.count)...)
            case 3: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: random.below(bytes.count + 1))
            default:
                if bytes.isEmpty { bytes.append(0) }
                bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
            }
        }
        return bytes
    }

    /// Runs `agreement` on `rounds` mutations of the seeds; answers how
    /// many both decoders read.
    private func mutatedRounds(
        _ seeds: [[UInt8]], seed: UInt64, rounds: Int = 20_000, _ agreement: (UnsafeRawBufferPointer) -> Agreement
    ) -> Int {
        var random = Random(state: seed)
        var accepted = 0
        for round in 0..<rounds {
            let bytes = mutate(seeds[round % seeds.count], &random)
            switch bytes.withUnsafeBytes(agreement) {
            case .accepted: accepted += 1
            case .refused: break
            case .disagreement(let text): XCTFail("round \(round): \(text): \(bytes)")
            }
        }
        return accepted
    }

    func testClassifyRequestDecodersAgreeOnMutatedBytes() {
        let seeds = [
            ClassifyRequest(report: FailureReport(message: "Back-off pulling image \"agent:7\": ErrImageNeverPull", exitCode: 125)),
            ClassifyRequest(report: FailureReport(message: "database disk image is malformed — é ü 日本", sqliteCode: 11)),
            ClassifyRequest(report: FailureReport(message: "", exitCode: -1, sqliteCode: 0)),
            ClassifyRequest(report: FailureReport(message: "manifest unknown", image: "127.0.0.1:5000/agent/x:1")),
        ].map { $0.wireBytes() }
        let accepted = mutatedRounds(seeds, seed: 29, DecoderAgreement.classifyRequest)
        XCTAssertGreaterThan(accepted, 1000, "the mutations leave enough valid messages to compare")
    }

    func testClientFrameDecodersAgreeOnMutatedBytes() {
        let seeds = [
            ClientFrame.call(id: 7, method: "ReserveRetrySlot", timeoutMilliseconds: 250, payload: [1, 2, 3]),
            ClientFrame.hello(protocolVersion: 1, clientName: "runner-ü"),
            ClientFrame.cancel(id: 300),
        ].map { $0.wireBytes() }
        XCTAssertGreaterThan(mutatedRounds(seeds, seed: 31, DecoderAgreement.clientFrame), 1000)
    }

    /// Every method's request decoder, as the daemon reads it, against
    /// protobuf-c's, and written back and read again unchanged.
    func testEveryRequestDecoderAgreesOnMutatedBytes() {
        for (index, method) in MethodDecoders.all.enumerated() {
            let seeds = method.sampleRequest.isEmpty ? [[0x08, 0x01]] : [method.sampleRequest]
            let accepted = mutatedRounds(seeds, seed: 37 + UInt64(index), rounds: 2_000, method.request)
            XCTAssertGreaterThan(accepted, 50, method.name)
        }
    }

    func testEveryMethodOfTheSchemaHasItsDecodersChecked() {
        XCTAssertEqual(MethodDecoders.all.map(\.name), SidecarMethods.all.map(\.name))
    }

    /// Frames cut into reads of every shape hand out what the framing rule says.
    func testFrameDecoderAgreesWithTheFramingRuleOnMutatedStreams() {
        let frames = [
            ClientFrame.hello(protocolVersion: 1, clientName: "runner-ü"),
            ClientFrame.call(id: 7, method: "ReserveRetrySlot", timeoutMilliseconds: 250, payload: Array(repeating: 0x41, count: 40)),
            ClientFrame.cancel(id: 300),
        ].map { $0.frameBytes() }
        let seeds = [Array(frames.joined()), frames[1], [0, 0, 0, 0] + frames[2]]
        var random = Random(state: 41)
        for round in 0..<5_000 {
            let stream = mutate(seeds[round % seeds.count], &random)
            let reads = (0..<4).map { _ in 1 + random.below(round % 2 == 0 ? 5 : 64) }
            for limit in [16, 64, 1 << 20] {
                let agreement = stream.withUnsafeBytes { FrameAgreement.check($0, maxBodyBytes: limit, readSizes: reads) }
                if let text = agreement.disagreement { XCTFail("round \(round): \(text): \(stream)") }
            }
        }
    }

    /// The cases: keys that differ only after a NUL, or only in an
    /// invalid byte, are refused, not merged.
    func testStringsWithNULOrInvalidUTF8AreRefusedByBothDecoders() throws {
        for bad in [Array("alias\u{0}A".utf8), [0x75, 0xFF], [0x75, 0xFE], Array("x\u{0}ErrImageNeverPull".utf8)] {
            var request = [UInt8(0x0A), UInt8(bad.count)] + bad
            try request.withUnsafeBytes { raw in
                XCTAssertThrowsError(try ClassifyRequestView(wireBytes: raw), "\(bad)")
                XCTAssertThrowsError(try ClassifyRequest(protobufCWireBytes: raw), "\(bad)")
                XCTAssertThrowsError(try ReserveRetrySlotRequest(protobufCWireBytes: raw), "a key \(bad)")
            }
            let image = [UInt8(0x22), UInt8(bad.count)] + bad
            try image.withUnsafeBytes { raw in
                XCTAssertThrowsError(try ClassifyRequestView(wireBytes: raw), "image \(bad)")
                XCTAssertThrowsError(try ClassifyRequest(protobufCWireBytes: raw), "image \(bad)")
            }
            request = [0x1A, UInt8(bad.count)] + bad
            try request.withUnsafeBytes { raw in XCTAssertThrowsError(try ClientFrameView(frameBody: raw), "method \(bad)") }
        }
        // Tags protobuf does not allow: a field number over 2^29 - 1, a
        // field number 0 in a two-byte tag, a tag padded past five bytes.
        for tag: [UInt8] in [[0x80, 0x80, 0x80, 0x80, 0x20], [0x80, 0x00], [0x88, 0x80, 0x80, 0x80, 0x80, 0x00]] {
            let message = tag + [0x01]
            try message.withUnsafeBytes { raw in
                XCTAssertThrowsError(try ClassifyRequestView(wireBytes: raw), "\(tag)")
                XCTAssertThrowsError(try ClassifyRequest(protobufCWireBytes: raw), "\(tag)")
                XCTAssertThrowsError(try ClientFrameView(frameBody: raw), "\(tag)")
                XCTAssertThrowsError(try ClientFrame(protobufCWireBytes: raw), "\(tag)")
            }
        }
    }

    func testTheStringAndMessageTypeNumbersAreProtobufCs() throws {
        let classify = ClassifyRequest.descriptor
        let message = try XCTUnwrap(protobuf_c_message_descriptor_get_field(classify, 1))
        XCTAssertEqual(message.pointee.type.rawValue, ProtobufText.stringType)
        let leases = ListLeasesResponse.descriptor
        let lease = try XCTUnwrap(protobuf_c_message_descriptor_get_field(leases, 1))
        XCTAssertEqual(lease.pointee.type.rawValue, ProtobufText.messageType)
    }
}
