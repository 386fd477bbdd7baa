import SidecarCore

/// The daemon writes every frame by hand, straight into a connection's
/// output: protobuf-c's generic walk with its allocations cost more than a
/// call like Health itself. Tests hold it byte-equal to protobuf-c.
extension ServerFrame {
    /// Writes an OK reply carrying `payload` (the daemon's reused reply
    /// buffer) into a connection's output, the same bytes as
    /// `reply(id:payload:).write(to:)`, without copying the payload first.
    package static func writeReply(callID: UInt64, payload: UnsafeRawBufferPointer, to output: ProtobufWriter) {
        write(
            callID: callID, kind: .reply, statusCode: .ok, statusMessage: "", payload: payload, protocolVersion: 0,
            serverVersion: "", maxMessageBytes: 0, maxInflightCalls: 0, to: output)
    }

    /// Writes this frame, header and body, into a connection's output.
    package func write(to output: ProtobufWriter) {
        payload.withUnsafeBytes { payload in
            Self.write(
                callID: callID, kind: kind, statusCode: statusCode, statusMessage: statusMessage, payload: payload,
                protocolVersion: protocolVersion, serverVersion: serverVersion, maxMessageBytes: maxMessageBytes,
                maxInflightCalls: maxInflightCalls, to: output)
        }
    }

    /// Appends this frame, header and body, to `buffer`.
    package func append(to buffer: inout [UInt8]) {
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
