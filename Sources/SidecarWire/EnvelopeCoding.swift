import SidecarCore

/// The envelope messages (wire.proto) encoded and decoded by hand on the
/// daemon's hot path: every call crosses them twice, and protobuf-c's
/// generic walk with its allocations cost more than the call itself. The
/// payload messages still go through protobuf-c. Tests check both
/// directions against protobuf-c's own encoding.
enum ProtobufWire {
    static func appendVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        buffer.append(UInt8(rest))
    }

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
    /// `reply(id:payload:).append(to:)`.
    public static func writeReply(callID: UInt64, payload: UnsafeRawBufferPointer, to output: ProtobufWriter) {
        writePlain(callID: callID, kind: .reply, payload: payload, to: output)
    }

    private static func writePlain(callID: UInt64, kind: Kind, payload: UnsafeRawBufferPointer, to output: ProtobufWriter) {
        var size = 0
        if callID != 0 { size += 1 + ProtobufWire.varintSize(callID) }
        if kind != .unspecified { size += 1 + ProtobufWire.varintSize(UInt64(kind.rawValue)) }
        if !payload.isEmpty { size += 1 + ProtobufWire.varintSize(UInt64(payload.count)) + payload.count }
        output.frameHeader(bodyLength: size)
        output.uint64(1, callID)
        output.uint32(2, kind.rawValue)
        output.bytes(5, payload)
    }

    /// Writes this frame, header and body, into a connection's output.
    public func write(to output: ProtobufWriter) {
        if statusCode == .ok, statusMessage.isEmpty, serverVersion.isEmpty, protocolVersion == 0,
            maxMessageBytes == 0, maxInflightCalls == 0
        {
            return payload.withUnsafeBytes { Self.writePlain(callID: callID, kind: kind, payload: $0, to: output) }
        }
        var bytes: [UInt8] = []
        append(to: &bytes)
        output.append(encoded: bytes)
    }

    /// The common case, an OK reply or a stream message: call id, kind and
    /// payload. The envelope is written through a pointer in one append.
    private static func appendPlain(
        callID: UInt64, kind: Kind, payload: UnsafeRawBufferPointer, to buffer: inout [UInt8]
    ) {
        var size = 0
        if callID != 0 { size += 1 + ProtobufWire.varintSize(callID) }
        if kind != .unspecified { size += 1 + ProtobufWire.varintSize(UInt64(kind.rawValue)) }
        if !payload.isEmpty { size += 1 + ProtobufWire.varintSize(UInt64(payload.count)) + payload.count }
        buffer.reserveCapacity(buffer.count + FrameDecoder.headerBytes + size)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { scratch in
            var used = 0
            func byte(_ value: UInt8) {
                scratch[used] = value
                used += 1
            }
            func varint(_ value: UInt64) {
                var rest = value
                while rest >= 0x80 {
                    byte(UInt8(truncatingIfNeeded: rest) | 0x80)
                    rest >>= 7
                }
                byte(UInt8(rest))
            }
            byte(UInt8(truncatingIfNeeded: size >> 24))
            byte(UInt8(truncatingIfNeeded: size >> 16))
            byte(UInt8(truncatingIfNeeded: size >> 8))
            byte(UInt8(truncatingIfNeeded: size))
            if callID != 0 {
                byte(0x08)
                varint(callID)
            }
            if kind != .unspecified {
                byte(0x10)
                varint(UInt64(kind.rawValue))
            }
            if !payload.isEmpty {
                byte(0x2a)
                varint(UInt64(payload.count))
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<used]))
        }
        buffer.append(contentsOf: payload)
    }

    /// Appends this frame, header and body, to `buffer`, encoded by hand in
    /// field order with proto3's rule of leaving defaults out.
    public func append(to buffer: inout [UInt8]) {
        if statusCode == .ok, statusMessage.isEmpty, serverVersion.isEmpty, protocolVersion == 0,
            maxMessageBytes == 0, maxInflightCalls == 0
        {
            return payload.withUnsafeBytes { Self.appendPlain(callID: callID, kind: kind, payload: $0, to: &buffer) }
        }
        let message = Array(statusMessage.utf8)
        let version = Array(serverVersion.utf8)
        var size = 0
        if callID != 0 { size += 1 + ProtobufWire.varintSize(callID) }
        if kind != .unspecified { size += 1 + ProtobufWire.varintSize(UInt64(kind.rawValue)) }
        if statusCode != .ok { size += 1 + ProtobufWire.varintSize(UInt64(statusCode.rawValue)) }
        if !message.isEmpty { size += 1 + ProtobufWire.varintSize(UInt64(message.count)) + message.count }
        if !payload.isEmpty { size += 1 + ProtobufWire.varintSize(UInt64(payload.count)) + payload.count }
        if protocolVersion != 0 { size += 1 + ProtobufWire.varintSize(UInt64(protocolVersion)) }
        if !version.isEmpty { size += 1 + ProtobufWire.varintSize(UInt64(version.count)) + version.count }
        if maxMessageBytes != 0 { size += 1 + ProtobufWire.varintSize(UInt64(maxMessageBytes)) }
        if maxInflightCalls != 0 { size += 1 + ProtobufWire.varintSize(UInt64(maxInflightCalls)) }

        buffer.reserveCapacity(buffer.count + FrameDecoder.headerBytes + size)
        FrameDecoder.appendHeader(length: size, to: &buffer)
        func varintField(_ tag: UInt8, _ value: UInt64) {
            buffer.append(tag)
            ProtobufWire.appendVarint(value, to: &buffer)
        }
        func bytesField(_ tag: UInt8, _ bytes: [UInt8]) {
            buffer.append(tag)
            ProtobufWire.appendVarint(UInt64(bytes.count), to: &buffer)
            buffer.append(contentsOf: bytes)
        }
        if callID != 0 { varintField(0x08, callID) }
        if kind != .unspecified { varintField(0x10, UInt64(kind.rawValue)) }
        if statusCode != .ok { varintField(0x18, UInt64(statusCode.rawValue)) }
        if !message.isEmpty { bytesField(0x22, message) }
        if !payload.isEmpty { bytesField(0x2a, payload) }
        if protocolVersion != 0 { varintField(0x30, UInt64(protocolVersion)) }
        if !version.isEmpty { bytesField(0x3a, version) }
        if maxMessageBytes != 0 { varintField(0x40, UInt64(maxMessageBytes)) }
        if maxInflightCalls != 0 { varintField(0x48, UInt64(maxInflightCalls)) }
    }
}
