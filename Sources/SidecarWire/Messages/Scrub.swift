import SidecarCore
import SidecarProtoC

public typealias ScrubRequest = EmptyMessage

public struct ScrubResponse: Equatable, Sendable {
    public var report: ScrubReport

    public init(report: ScrubReport) {
        self.report = report
    }
}

extension ScrubReport.Finding: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ScrubFinding>) { sidecar__v1__scrub_finding__init(c) }

    package init(reading c: Sidecar__V1__ScrubFinding) {
        self.init(ref: ProtobufCField.string(c.ref), damage: ProtobufCField.string(c.damage), repair: ProtobufCField.string(c.repair))
    }

    package func fill(_ c: inout Sidecar__V1__ScrubFinding, arena: PackArena) {
        c.ref = arena.string(ref)
        c.damage = arena.string(damage)
        c.repair = arena.string(repair)
    }
}

extension ScrubResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ScrubResponse>) { sidecar__v1__scrub_response__init(c) }

    package init(reading c: Sidecar__V1__ScrubResponse) throws {
        self.init(report: ScrubReport(
            images: c.images, blobs: c.blobs, bytes: c.bytes, seconds: c.seconds,
            damaged: try ProtobufCField.messages(c.damaged, count: c.n_damaged), skippedBlobs: c.skipped_blobs))
    }

    package func fill(_ c: inout Sidecar__V1__ScrubResponse, arena: PackArena) {
        c.images = report.images
        c.blobs = report.blobs
        c.bytes = report.bytes
        c.seconds = report.seconds
        c.n_damaged = report.damaged.count
        c.damaged = arena.messages(report.damaged)
        c.skipped_blobs = report.skippedBlobs
    }
}
