import SidecarCore
import SidecarProtoC

/// `ErrorDetail` (wire.proto): the payload of a failed REPLY.
extension FailureDetail: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ErrorDetail>) { sidecar__v1__error_detail__init(c) }

    package init(reading c: Sidecar__V1__ErrorDetail) {
        self.init(
            category: ProtobufCField.string(c.category), permanent: c.permanent != 0,
            remedy: ProtobufCField.string(c.remedy), retryAfterSeconds: c.retry_after_seconds)
    }

    package func fill(_ c: inout Sidecar__V1__ErrorDetail, arena: PackArena) {
        c.category = arena.string(category)
        c.permanent = permanent ? 1 : 0
        c.remedy = arena.string(remedy)
        c.retry_after_seconds = retryAfterSeconds
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
