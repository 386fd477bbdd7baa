/// Splits a byte stream into frames: a 4-byte big-endian length, then that
/// many bytes of body (proto/sidecar/v1/README.md).
///
/// Reads arrive in any shape: half a header, many frames at once, a body
/// spread over several reads. Whole frames inside one read are handed out
/// without copying; only a frame split across reads is gathered. A frame
/// over the limit is never buffered: its first bytes are peeked for the call
/// id and the rest is skipped as it arrives.
package struct FrameDecoder {
    package enum Event {
        /// A complete body, valid only during the callback.
        case frame(UnsafeRawBufferPointer)
        /// A body over the limit; `callID` when its first bytes carry one.
        case oversized(length: Int, callID: UInt64?)
    }

    package static let headerBytes = 4
    /// How much of an oversized body is looked at for its call id.
    package static let peekBytes = 16

    private enum State {
        case header
        case body(length: Int)
        case peeking(length: Int)
        case discarding(remaining: Int)
    }

    package let maxBodyBytes: Int
    private var state = State.header
    private var pending: [UInt8] = []

    package init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    /// Bytes of a frame not yet whole, held until the rest arrives.
    package var bufferedBytes: Int { pending.count }

    /// True when part of a frame has been read but not all of it.
    package var hasPartialFrame: Bool {
        if case .header = state { return !pending.isEmpty }
        return true
    }

    package mutating func feed(_ input: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) rethrows {
        _ = try feed(input, upTo: .max, handle)
    }

    /// Hands out at most `maxEvents` events (one more when a body of zero
    /// bytes ends the input), then stops; returns how many
    /// bytes of `input` it took (all of them unless it stopped). The caller
    /// feeds the rest later, so one burst of small frames is served a slice
    /// at a time.
    package mutating func feed(
        _ input: UnsafeRawBufferPointer, upTo maxEvents: Int, _ handle: (Event) throws -> Void
    ) rethrows -> Int {
        var offset = 0
        let count = input.count
        var handed = 0
        func counted(_ event: Event) throws {
            handed += 1
            try handle(event)
        }
        while offset < count {
            if handed >= maxEvents { return offset }
            switch state {
            case .header:
                if pending.isEmpty, count - offset >= Self.headerBytes {
                    let length = Self.readLength(input, at: offset)
                    offset += Self.headerBytes
                    if length > maxBodyBytes {
                        state = .peeking(length: length)
                    } else if count - offset >= length {
                        try counted(.frame(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)])))
                        offset += length
                    } else {
                        state = .body(length: length)
                    }
                    continue
                }
                let taken = min(Self.headerBytes - pending.count, count - offset)
                pending.append(contentsOf: input[offset..<(offset + taken)])
                offset += taken
                if pending.count == Self.headerBytes {
                    let length = pending.withUnsafeBytes { Self.readLength($0, at: 0) }
                    pending.removeAll(keepingCapacity: true)
                    state = length > maxBodyBytes ? .peeking(length: length) : .body(length: length)
                }
            case .body(let length):
                let taken = min(length - pending.count, count - offset)
                pending.append(contentsOf: input[offset..<(offset + taken)])
                offset += taken
            case .peeking(let length):
                let target = min(length, Self.peekBytes)
                let taken = min(target - pending.count, count - offset)
                pending.append(contentsOf: input[offset..<(offset + taken)])
                offset += taken
            case .discarding(let remaining):
                let taken = min(remaining, count - offset)
                offset += taken
                state = remaining == taken ? .header : .discarding(remaining: remaining - taken)
            }
            try finishGathered(counted)
        }
        // A zero-length body completes as soon as its header is read.
        try finishGathered(counted)
        return offset
    }

    /// Hands out a gathered body or oversized notice once it is complete.
    private mutating func finishGathered(_ handle: (Event) throws -> Void) rethrows {
        switch state {
        case .body(let length) where pending.count == length:
            state = .header
            try pending.withUnsafeBytes { try handle(.frame($0)) }
            releasePending()
        case .peeking(let length) where pending.count == min(length, Self.peekBytes):
            let callID = pending.withUnsafeBytes { ProtobufWire.Reader($0).uint64Field(1) }
            let rest = length - pending.count
            state = rest > 0 ? .discarding(remaining: rest) : .header
            releasePending()
            try handle(.oversized(length: length, callID: callID))
        default:
            break
        }
    }

    private mutating func releasePending() {
        // Keep a small buffer for the next split frame; give a big one back.
        if pending.capacity > 64 * 1024 {
            pending = []
        } else {
            pending.removeAll(keepingCapacity: true)
        }
    }

    static func readLength(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }

    /// Appends a frame header for a body of `length` bytes.
    package static func appendHeader(length: Int, to buffer: inout [UInt8]) {
        buffer.append(UInt8(truncatingIfNeeded: length >> 24))
        buffer.append(UInt8(truncatingIfNeeded: length >> 16))
        buffer.append(UInt8(truncatingIfNeeded: length >> 8))
        buffer.append(UInt8(truncatingIfNeeded: length))
    }
}
