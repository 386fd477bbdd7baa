import SidecarCore
import SidecarProtoC

/// What a server writes: HELLO_ACK, STREAM_MESSAGE, REPLY or GOAWAY (wire.proto).
package struct ServerFrame: Sendable, Equatable {
    package enum Kind: UInt32, Sendable {
        case unspecified = 0
        case helloAck = 1
        case streamMessage = 2
        case reply = 3
        case goAway = 4
    }

    package var callID: UInt64
    package var kind: Kind
    package var statusCode: StatusCode
    package var statusMessage: String
    package var payload: [UInt8]
    package var protocolVersion: UInt32
    package var serverVersion: String
    package var maxMessageBytes: UInt32
    package var maxInflightCalls: UInt32

    package init(
        callID: UInt64 = 0, kind: Kind, statusCode: StatusCode = .ok, statusMessage: String = "",
        payload: [UInt8] = [], protocolVersion: UInt32 = 0, serverVersion: String = "",
        maxMessageBytes: UInt32 = 0, maxInflightCalls: UInt32 = 0
    ) {
        self.callID = callID
        self.kind = kind
        self.statusCode = statusCode
        self.statusMessage = statusMessage
        self.payload = payload
        self.protocolVersion = protocolVersion
        self.serverVersion = serverVersion
        self.maxMessageBytes = maxMessageBytes
        self.maxInflightCalls = maxInflightCalls
    }

    package static func reply(id: UInt64, payload: [UInt8]) -> ServerFrame {
        ServerFrame(callID: id, kind: .reply, payload: payload)
    }

    package static func reply(id: UInt64, error: SidecarError) -> ServerFrame {
        ServerFrame(
            callID: id, kind: .reply, statusCode: error.code, statusMessage: error.message,
            payload: error.detail?.wireBytes() ?? [])
    }

    package static func goAway(_ error: SidecarError) -> ServerFrame {
        ServerFrame(kind: .goAway, statusCode: error.code, statusMessage: error.message)
    }

    package init(frameBody: UnsafeRawBufferPointer) throws {
        try self.init(protobufCWireBytes: frameBody)
    }

    /// Encodes with protobuf-c; `write(to:)` (ServerFrameWriter.swift) is the
    /// hand-written encoder the daemon uses, and tests hold the two equal.
    func protobufCFrameBytes() -> [UInt8] {
        let body = protobufCWireBytes()
        var buffer: [UInt8] = []
        FrameDecoder.appendHeader(length: body.count, to: &buffer)
        return buffer + body
    }

    package func frameBytes() -> [UInt8] {
        var buffer: [UInt8] = []
        append(to: &buffer)
        return buffer
    }
}

extension ServerFrame: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ServerFrame>) { sidecar__v1__server_frame__init(c) }

    package init(reading c: Sidecar__V1__ServerFrame) {
        self.init(
            callID: c.call_id,
            kind: Kind(rawValue: c.kind.rawValue) ?? .unspecified,
            statusCode: StatusCode(wireValue: c.status_code),
            statusMessage: ProtobufCField.string(c.status_message),
            payload: ProtobufCField.bytes(c.payload),
            protocolVersion: c.protocol_version.rawValue,
            serverVersion: ProtobufCField.string(c.server_version),
            maxMessageBytes: c.max_message_bytes,
            maxInflightCalls: c.max_inflight_calls)
    }

    package func fill(_ c: inout Sidecar__V1__ServerFrame, arena: PackArena) {
        c.call_id = callID
        c.kind = Sidecar__V1__ServerFrame__Kind(rawValue: kind.rawValue)
        c.status_code = statusCode.rawValue
        c.status_message = arena.string(statusMessage)
        c.payload = arena.bytes(payload)
        c.protocol_version = Sidecar__V1__ProtocolVersion(rawValue: protocolVersion)
        c.server_version = arena.string(serverVersion)
        c.max_message_bytes = maxMessageBytes
        c.max_inflight_calls = maxInflightCalls
    }
}
