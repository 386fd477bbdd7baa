import XCTest

@testable import SidecarWire

final class FrameDecoderTests: XCTestCase {
    private enum Seen: Equatable {
        case frame([UInt8])
        case oversized(Int, UInt64?)
    }

    private func frame(_ body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        FrameDecoder.appendHeader(length: body.count, to: &bytes)
        return bytes + body
    }

    private func feed(_ decoder: inout FrameDecoder, _ chunks: [[UInt8]]) -> [Seen] {
        var seen: [Seen] = []
        for chunk in chunks {
            chunk.withUnsafeBytes { raw in
                decoder.feed(raw) { event in
                    switch event {
                    case .frame(let body): seen.append(.frame(Array(body)))
                    case .oversized(let length, let callID): seen.append(.oversized(length, callID))
                    }
                }
            }
        }
        return seen
    }

    func testManyFramesInOneRead() {
        var decoder = FrameDecoder(maxBodyBytes: 1024)
        let bodies: [[UInt8]] = [[1], [2, 3], Array(repeating: 9, count: 300), [4]]
        let seen = feed(&decoder, [bodies.flatMap(frame)])
        XCTAssertEqual(seen, bodies.map { .frame($0) })
        XCTAssertFalse(decoder.hasPartialFrame)
    }

    func testByteByByteReads() {
        var decoder = FrameDecoder(maxBodyBytes: 1024)
        let stream = frame([7, 8, 9]) + frame([10]) + frame(Array(repeating: 1, count: 70))
        let seen = feed(&decoder, stream.map { [$0] })
        XCTAssertEqual(seen, [.frame([7, 8, 9]), .frame([10]), .frame(Array(repeating: 1, count: 70))])
    }

    func testSplitHeaderAndBodyAcrossReads() {
        var decoder = FrameDecoder(maxBodyBytes: 1024)
        let stream = frame([1, 2, 3, 4, 5]) + frame([6, 7])
        // Cut inside the first header, inside the first body, inside the second header.
        let seen = feed(&decoder, [Array(stream[0..<2]), Array(stream[2..<6]), Array(stream[6..<11]), Array(stream[11...])])
        XCTAssertEqual(seen, [.frame([1, 2, 3, 4, 5]), .frame([6, 7])])
    }

    func testZeroLengthFrames() {
        var decoder = FrameDecoder(maxBodyBytes: 1024)
        XCTAssertEqual(feed(&decoder, [frame([]) + frame([]) + frame([5])]), [.frame([]), .frame([]), .frame([5])])
        // A zero-length frame whose header ends a read is handed out at once.
        XCTAssertEqual(feed(&decoder, [Array(frame([])[0..<3]), [0]]), [.frame([])])
    }

    func testTruncatedFrameWaitsForTheRest() {
        var decoder = FrameDecoder(maxBodyBytes: 1024)
        let whole = frame([1, 2, 3, 4])
        XCTAssertEqual(feed(&decoder, [Array(whole.dropLast())]), [])
        XCTAssertTrue(decoder.hasPartialFrame)
        XCTAssertEqual(feed(&decoder, [[whole.last!]]), [.frame([1, 2, 3, 4])])
        XCTAssertFalse(decoder.hasPartialFrame)
    }

    func testOversizedFrameIsSkippedWithItsCallID() {
        var decoder = FrameDecoder(maxBodyBytes: 64)
        // A ClientFrame body starting with call_id = 300 (field 1, varint).
        var big = ClientFrame.call(id: 300, method: "Health", payload: Array(repeating: 0xAB, count: 200)).frameBytes()
        big += frame([42])
        // Fed in odd-sized pieces so the peek and the skip both span reads.
        var chunks: [[UInt8]] = []
        var offset = 0
        while offset < big.count {
            let end = min(big.count, offset + 7)
            chunks.append(Array(big[offset..<end]))
            offset = end
        }
        let seen = feed(&decoder, chunks)
        XCTAssertEqual(seen.count, 2)
        guard case .oversized(let length, let callID) = seen[0] else { return XCTFail("expected oversized, got \(seen)") }
        XCTAssertGreaterThan(length, 200)
        XCTAssertEqual(callID, 300)
        XCTAssertEqual(seen[1], .frame([42]))
    }

    func testOversizedFrameWithoutCallID() {
        var decoder = FrameDecoder(maxBodyBytes: 8)
        let seen = feed(&decoder, [frame(Array(repeating: 0xFF, count: 40)) + frame([1])])
        XCTAssertEqual(seen, [.oversized(40, nil), .frame([1])])
    }

    func testHugeDeclaredLengthIsNotBuffered() {
        var decoder = FrameDecoder(maxBodyBytes: 1024)
        // 4 GiB - 1 announced; only the peek bytes may be kept.
        let seen = feed(&decoder, [[0xFF, 0xFF, 0xFF, 0xFF] + Array(repeating: 0, count: 100)])
        XCTAssertEqual(seen, [.oversized(0xFFFF_FFFF, nil)])
        XCTAssertTrue(decoder.hasPartialFrame)
    }
}
