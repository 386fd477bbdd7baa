import SidecarCore

/// The envelope messages (wire.proto) encoded and decoded by hand on the
/// daemon's hot path: every call crosses them twice, and protobuf-c's
/// generic walk with its allocations cost more than the call itself. Most
/// payload messages still go through protobuf-c (the hot ones are written
/// with `ProtobufWriter` too). Tests check both directions against
/// protobuf-c's own encoding.
enum ProtobufWire {
    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    /// Reads the fields of a message one at a time: the decoder reads a
    /// tag, then the value its wire type says.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        init(_ bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        var isAtEnd: Bool { offset >= bytes.count }

        // Inlined into the two hot decoders (ClientFrameView, ClassifyRequest):
        // as calls, the reader was a tenth of a Health call.
        @inline(__always)
        mutating func varint() throws -> UInt64 {
            // One and two bytes (tags, kinds, most call ids and lengths) inline.
            if offset + 1 < bytes.count {
                let first = bytes[offset]
                if first < 0x80 {
                    offset += 1
                    return UInt64(first)
                }
                let second = bytes[offset + 1]
                if second < 0x80 {
                    offset += 2
                    return UInt64(first & 0x7f) | UInt64(second) << 7
                }
            } else if offset < bytes.count, bytes[offset] < 0x80 {
                offset += 1
                return UInt64(bytes[offset - 1])
            }
            return try longVarint()
        }

        @inline(never)
        private mutating func longVarint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count {
                let byte = bytes[offset]
                offset += 1
                if shift == 63 && byte > 1 { break }
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
                if shift > 63 { break }
            }
            throw WireDecodingError("malformed varint at byte \(offset)")
        }

        /// The bytes of a length-delimited field whose tag was just read.
        @inline(__always)
        mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else {
                throw WireDecodingError("a field runs past the end of the message at byte \(offset)")
            }
            let start = offset
            offset += Int(length)
            return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
        }

        /// Skips the field of `tag`, which the decoder does not know: an
        /// unknown field number is skipped, as protobuf does; a known
        /// number with another wire type, and wire types 3, 4, 6 and 7,
        /// are errors.
        mutating func skipField(tag: UInt64, knownNumbers: ClosedRange<UInt64>, of message: String) throws {
            let number = tag >> 3
            guard number != 0 else { throw WireDecodingError("field number 0 at byte \(offset)") }
            guard !knownNumbers.contains(number) else {
                throw WireDecodingError("field \(number) of \(message) has the wrong wire type")
            }
            switch tag & 7 {
            case 0:
                _ = try varint()
            case 1, 5:
                let width = tag & 7 == 1 ? 8 : 4
                guard bytes.count - offset >= width else { throw WireDecodingError("truncated fixed field") }
                offset += width
            case 2:
                _ = try lengthDelimited()
            default:
                throw WireDecodingError("unsupported wire type \(tag & 7) in field \(number)")
            }
        }
    }
}

/// A ClientFrame read in place: `payload` points into the frame body and is
/// valid only as long as that body is.
public struct ClientFrameView {
    public var callID: UInt64 = 0
    public var kind = ClientFrame.Kind.unspecified
    /// The method name's bytes: the server matches them against its last
    /// route before it makes a String of them.
    public var methodBytes = UnsafeRawBufferPointer(start: nil, count: 0)
    public var timeoutMilliseconds: UInt32 = 0
    public var payload = UnsafeRawBufferPointer(start: nil, count: 0)
    public var protocolVersion: UInt32 = 0

    public init(frameBody: UnsafeRawBufferPointer) throws {
        var reader = ProtobufWire.Reader(frameBody)
        while !reader.isAtEnd {
            // Tags: field number << 3 | wire type (0 varint, 2 bytes).
            let tag = try reader.varint()
            switch tag {
            case 0x08: callID = try reader.varint()
            case 0x10:
                kind = ClientFrame.Kind(rawValue: UInt32(truncatingIfNeeded: try reader.varint())) ?? .unspecified
            case 0x1a: methodBytes = try reader.lengthDelimited()
            case 0x20: timeoutMilliseconds = UInt32(truncatingIfNeeded: try reader.varint())
            case 0x2a: payload = try reader.lengthDelimited()
            case 0x30: protocolVersion = UInt32(truncatingIfNeeded: try reader.varint())
            case 0x3a: _ = try reader.lengthDelimited()  // client_name: only for logs
            default: try reader.skipField(tag: tag, knownNumbers: 1...7, of: "ClientFrame")
            }
        }
    }

    public var method: String { String(decoding: methodBytes, as: UTF8.self) }
}

extension ServerFrame {
    /// Writes an OK reply carrying `payload` (the daemon's reused reply
    /// buffer) into a connection's output, the same bytes as
    /// `reply(id:payload:).write(to:)`, without copying the payload first.
    public static func writeReply(callID: UInt64, payload: UnsafeRawBufferPointer, to output: ProtobufWriter) {
        write(
            callID: callID, kind: .reply, statusCode: .ok, statusMessage: "", payload: payload, protocolVersion: 0,
            serverVersion: "", maxMessageBytes: 0, maxInflightCalls: 0, to: output)
    }

    /// Writes this frame, header and body, into a connection's output.
    public func write(to output: ProtobufWriter) {
        payload.withUnsafeBytes { payload in
            Self.write(
                callID: callID, kind: kind, statusCode: statusCode, statusMessage: statusMessage, payload: payload,
                protocolVersion: protocolVersion, serverVersion: serverVersion, maxMessageBytes: maxMessageBytes,
                maxInflightCalls: maxInflightCalls, to: output)
        }
    }

    /// Appends this frame, header and body, to `buffer`.
    public func append(to buffer: inout [UInt8]) {
        let output = ProtobufWriter(capacity: 64 + payload.count)
        write(to: output)
        output.withBytes { buffer.append(contentsOf: $0) }
    }

    /// The one encoder of a ServerFrame: by hand, in field order, with
    /// proto3's rule of leaving defaults out. Inlined, so a reply's
    /// constant defaults cost nothing.
    @inline(__always)
    private static func write(
        callID: UInt64, kind: Kind, statusCode: StatusCode, statusMessage: String, payload: UnsafeRawBufferPointer,
        protocolVersion: UInt32, serverVersion: String, maxMessageBytes: UInt32, maxInflightCalls: UInt32,
        to output: ProtobufWriter
    ) {
        func varintField(_ value: UInt64) -> Int {
            value == 0 ? 0 : 1 + ProtobufWire.varintSize(value)
        }
        func bytesField(_ count: Int) -> Int {
            count == 0 ? 0 : 1 + ProtobufWire.varintSize(UInt64(count)) + count
        }
        let size =
            varintField(callID) + varintField(UInt64(kind.rawValue)) + varintField(UInt64(statusCode.rawValue))
            + bytesField(statusMessage.utf8.count) + bytesField(payload.count)
            + varintField(UInt64(protocolVersion)) + bytesField(serverVersion.utf8.count)
            + varintField(UInt64(maxMessageBytes)) + varintField(UInt64(maxInflightCalls))
        output.frameHeader(bodyLength: size)
        output.uint64(1, callID)
        output.uint32(2, kind.rawValue)
        output.uint32(3, statusCode.rawValue)
        output.string(4, statusMessage)
        output.bytes(5, payload)
        output.uint32(6, protocolVersion)
        output.string(7, serverVersion)
        output.uint32(8, maxMessageBytes)
        output.uint32(9, maxInflightCalls)
    }
}
