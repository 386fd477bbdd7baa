import SidecarCore
import SidecarProtoC

public struct PruneRequest: Equatable, Sendable {
    /// Report what would be removed without removing it.
    public var dryRun: Bool

    public init(dryRun: Bool = false) {
        self.dryRun = dryRun
    }
}

extension PruneRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__PruneRequest>) { sidecar__v1__prune_request__init(c) }
    package init(reading c: Sidecar__V1__PruneRequest) { self.init(dryRun: c.dry_run != 0) }
    package func fill(_ c: inout Sidecar__V1__PruneRequest, arena _: PackArena) { c.dry_run = dryRun ? 1 : 0 }
}

public struct PruneResponse: Equatable, Sendable {
    public var report: PruneReport

    public init(report: PruneReport) {
        self.report = report
    }
}

extension PruneResponse: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__PruneResponse>) { sidecar__v1__prune_response__init(c) }

    package init(reading c: Sidecar__V1__PruneResponse) {
        self.init(report: PruneReport(
            removed: ProtobufCField.strings(c.removed, count: c.n_removed), bytesFreed: c.bytes_freed,
            keptLeased: ProtobufCField.strings(c.kept_leased, count: c.n_kept_leased)))
    }

    package func fill(_ c: inout Sidecar__V1__PruneResponse, arena: PackArena) {
        c.n_removed = report.removed.count
        c.removed = arena.strings(report.removed)
        c.bytes_freed = report.bytesFreed
        c.n_kept_leased = report.keptLeased.count
        c.kept_leased = arena.strings(report.keptLeased)
    }
}
