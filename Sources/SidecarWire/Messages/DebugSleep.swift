import SidecarProtoC

public struct SleepRequest: WireMessage, Equatable {
    public var milliseconds: UInt32

    public init(milliseconds: UInt32) {
        self.milliseconds = milliseconds
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "SleepRequest",
            unpack: { sidecar__v1__sleep_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__sleep_request__free_unpacked($0, nil) }
        ) { c in SleepRequest(milliseconds: c.milliseconds) }
    }

    package func wireBytes() -> [UInt8] {
        var c = Sidecar__V1__SleepRequest()
        sidecar__v1__sleep_request__init(&c)
        c.milliseconds = milliseconds
        return ProtobufCField.pack(
            &c, size: { sidecar__v1__sleep_request__get_packed_size($0) },
            pack: { sidecar__v1__sleep_request__pack($0, $1) })
    }
}

public struct SleepResponse: WireMessage, Equatable {
    public var sleptSeconds: Double

    public init(sleptSeconds: Double) {
        self.sleptSeconds = sleptSeconds
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "SleepResponse",
            unpack: { sidecar__v1__sleep_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__sleep_response__free_unpacked($0, nil) }
        ) { c in SleepResponse(sleptSeconds: c.slept_seconds) }
    }

    package func wireBytes() -> [UInt8] {
        var c = Sidecar__V1__SleepResponse()
        sidecar__v1__sleep_response__init(&c)
        c.slept_seconds = sleptSeconds
        return ProtobufCField.pack(
            &c, size: { sidecar__v1__sleep_response__get_packed_size($0) },
            pack: { sidecar__v1__sleep_response__pack($0, $1) })
    }
}
