import SidecarCore
import SidecarProtoC

/// `ErrorDetail` (wire.proto): the payload of a failed REPLY.
extension FailureDetail: WireMessage {
    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "ErrorDetail",
            unpack: { sidecar__v1__error_detail__unpack(nil, $0, $1) },
            free: { sidecar__v1__error_detail__free_unpacked($0, nil) }
        ) { c in
            FailureDetail(
                category: ProtobufCField.string(c.category), permanent: c.permanent != 0,
                remedy: ProtobufCField.string(c.remedy), retryAfterSeconds: c.retry_after_seconds)
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__ErrorDetail()
        sidecar__v1__error_detail__init(&c)
        c.category = arena.string(category)
        c.permanent = permanent ? 1 : 0
        c.remedy = arena.string(remedy)
        c.retry_after_seconds = retryAfterSeconds
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__error_detail__get_packed_size($0) },
                pack: { sidecar__v1__error_detail__pack($0, $1) })
        }
    }
}

extension SidecarError {
    /// The error a failed REPLY stands for, with its detail when the payload
    /// holds one (a detail that does not decode is dropped, not fatal).
    package init(replyCode code: StatusCode, message: String, payload: [UInt8]) {
        let detail = payload.isEmpty ? nil : try? FailureDetail(wireBytes: payload)
        self.init(code, message, detail: detail)
    }
}
