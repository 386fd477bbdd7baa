import SidecarProtoC

public struct SleepRequest: Equatable, Sendable {
    public var milliseconds: UInt32

    public init(milliseconds: UInt32) {
        self.milliseconds = milliseconds
    }
}

extension SleepRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__SleepRequest>) { sidecar__v1__sleep_request__init(c) }
    package init(reading c: Sidecar__V1__SleepRequest) { self.init(milliseconds: c.milliseconds) }
    package func fill(_ c: inout Sidecar__V1__SleepRequest, arena _: PackArena) { c.milliseconds = milliseconds }
}

public struct SleepResponse: Equatable, Sendable {
    public var sleptSeconds: Double

    public init(sleptSeconds: Double) {
        self.sleptSeconds = sleptSeconds
    }
}

extension SleepResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__SleepResponse>) { sidecar__v1__sleep_response__init(c) }
    package init(reading c: Sidecar__V1__SleepResponse) { self.init(sleptSeconds: c.slept_seconds) }
    package func fill(_ c: inout Sidecar__V1__SleepResponse, arena _: PackArena) { c.slept_seconds = sleptSeconds }
}
