import SidecarProtoC

/// What a client writes: HELLO, CALL or CANCEL (wire.proto).
package struct ClientFrame: Sendable, Equatable {
    package enum Kind: UInt32, Sendable {
        case unspecified = 0
        case hello = 1
        case call = 2
        case cancel = 3
    }

    package var callID: UInt64
    package var kind: Kind
    package var method: String
    package var timeoutMilliseconds: UInt32
    package var payload: [UInt8]
    package var protocolVersion: UInt32
    package var clientName: String

    package init(
        callID: UInt64 = 0, kind: Kind, method: String = "", timeoutMilliseconds: UInt32 = 0,
        payload: [UInt8] = [], protocolVersion: UInt32 = 0, clientName: String = ""
    ) {
        self.callID = callID
        self.kind = kind
        self.method = method
        self.timeoutMilliseconds = timeoutMilliseconds
        self.payload = payload
        self.protocolVersion = protocolVersion
        self.clientName = clientName
    }

    package static func hello(protocolVersion: UInt32, clientName: String) -> ClientFrame {
        ClientFrame(kind: .hello, protocolVersion: protocolVersion, clientName: clientName)
    }

    package static func call(id: UInt64, method: String, timeoutMilliseconds: UInt32 = 0, payload: [UInt8]) -> ClientFrame {
        ClientFrame(callID: id, kind: .call, method: method, timeoutMilliseconds: timeoutMilliseconds, payload: payload)
    }

    package static func cancel(id: UInt64) -> ClientFrame {
        ClientFrame(callID: id, kind: .cancel)
    }

    package init(frameBody: UnsafeRawBufferPointer) throws {
        try self.init(protobufCWireBytes: frameBody)
    }

    /// Appends this frame, header and body, to `buffer`.
    package func append(to buffer: inout [UInt8]) {
        let body = protobufCWireBytes()
        FrameDecoder.appendHeader(length: body.count, to: &buffer)
        buffer += body
    }

    /// `frameBytes()`, refused when a string field holds a NUL
    /// (`wireBytesForSending()`).
    package func frameBytesForSending() throws -> [UInt8] {
        let body = try wireBytesForSending()
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

extension ClientFrame: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ClientFrame>) { sidecar__v1__client_frame__init(c) }

    package init(reading c: Sidecar__V1__ClientFrame) {
        self.init(
            callID: c.call_id,
            kind: Kind(rawValue: c.kind.rawValue) ?? .unspecified,
            method: ProtobufCField.string(c.method),
            timeoutMilliseconds: c.timeout_ms,
            payload: ProtobufCField.bytes(c.payload),
            protocolVersion: c.protocol_version.rawValue,
            clientName: ProtobufCField.string(c.client_name))
    }

    package func fill(_ c: inout Sidecar__V1__ClientFrame, arena: PackArena) {
        c.call_id = callID
        c.kind = Sidecar__V1__ClientFrame__Kind(rawValue: kind.rawValue)
        c.method = arena.string(method)
        c.timeout_ms = timeoutMilliseconds
        c.payload = arena.bytes(payload)
        c.protocol_version = Sidecar__V1__ProtocolVersion(rawValue: protocolVersion)
        c.client_name = arena.string(clientName)
    }
}
