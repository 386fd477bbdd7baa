import SidecarWire

/// `FrameDecoder` against the framing rule read plainly
/// (proto/sidecar/v1/README.md: a 4-byte big-endian length, then that many
/// bytes): what it hands out must be what the rule says, however the stream
/// is cut into reads.
package enum FrameAgreement {
    package enum Event: Equatable, Sendable {
        case frame([UInt8])
        case oversized(length: Int, callID: UInt64?)
    }

    package struct Reading: Equatable, Sendable {
        package var events: [Event] = []
        /// Bytes of a frame not yet whole are left at the end.
        package var partial = false
    }

    /// The stream read by the rule in one pass. A body over the limit is
    /// announced once its first `peekBytes` are in (with the call id they
    /// carry), then skipped.
    package static func expected(_ stream: UnsafeRawBufferPointer, maxBodyBytes: Int) -> Reading {
        var reading = Reading()
        var offset = 0
        while stream.count - offset >= FrameDecoder.headerBytes {
            let length = stream[offset..<(offset + FrameDecoder.headerBytes)].reduce(0) { $0 << 8 | Int($1) }
            let body = offset + FrameDecoder.headerBytes
            let available = stream.count - body
            if length > maxBodyBytes {
                let peek = min(length, FrameDecoder.peekBytes)
                guard available >= peek else { break }
                let first = UnsafeRawBufferPointer(rebasing: stream[body..<(body + peek)])
                reading.events.append(.oversized(length: length, callID: ProtobufWire.Reader(first).uint64Field(1)))
            } else {
                guard available >= length else { break }
                reading.events.append(.frame(Array(stream[body..<(body + length)])))
            }
            guard available >= length else { break }
            offset = body + length
        }
        reading.partial = offset < stream.count
        return reading
    }

    /// What `FrameDecoder` hands out when `stream` arrives in reads of
    /// `readSizes` bytes (taken in turn, round again).
    package static func decoded(_ stream: UnsafeRawBufferPointer, maxBodyBytes: Int, readSizes: [Int]) -> (Reading, bufferedBytes: Int) {
        var decoder = FrameDecoder(maxBodyBytes: maxBodyBytes)
        var reading = Reading()
        var offset = 0
        var turn = 0
        while offset < stream.count {
            let size = min(max(1, readSizes.isEmpty ? stream.count : readSizes[turn % readSizes.count]), stream.count - offset)
            turn += 1
            decoder.feed(UnsafeRawBufferPointer(rebasing: stream[offset..<(offset + size)])) { event in
                switch event {
                case .frame(let body): reading.events.append(.frame(Array(body)))
                case .oversized(let length, let callID): reading.events.append(.oversized(length: length, callID: callID))
                }
            }
            offset += size
        }
        reading.partial = decoder.hasPartialFrame
        return (reading, decoder.bufferedBytes)
    }

    package static func check(_ stream: UnsafeRawBufferPointer, maxBodyBytes: Int, readSizes: [Int]) -> Agreement {
        let expected = expected(stream, maxBodyBytes: maxBodyBytes)
        let (decoded, buffered) = decoded(stream, maxBodyBytes: maxBodyBytes, readSizes: readSizes)
        if decoded != expected {
            return .disagreement(
                "FrameDecoder (limit \(maxBodyBytes), reads of \(readSizes)) handed out \(decoded), the framing rule says \(expected)")
        }
        // A partial frame is held only up to the limit (an oversized one
        // only up to its first bytes).
        let most = max(maxBodyBytes, FrameDecoder.headerBytes, FrameDecoder.peekBytes)
        if buffered > most { return .disagreement("FrameDecoder holds \(buffered) bytes, more than \(most)") }
        return expected.events.isEmpty ? .refused : .accepted
    }
}
