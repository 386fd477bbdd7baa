import SidecarCore
import SidecarProtoC

public struct PruneRequest: WireMessage, Equatable {
    /// Report what would be removed without removing it.
    public var dryRun: Bool

    public init(dryRun: Bool = false) {
        self.dryRun = dryRun
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "PruneRequest",
            unpack: { sidecar__v1__prune_request__unpack(nil, $0, $1) },
            free: { sidecar__v1__prune_request__free_unpacked($0, nil) }
        ) { c in PruneRequest(dryRun: c.dry_run != 0) }
    }

    package func wireBytes() -> [UInt8] {
        var c = Sidecar__V1__PruneRequest()
        sidecar__v1__prune_request__init(&c)
        c.dry_run = dryRun ? 1 : 0
        return ProtobufCField.pack(
            &c, size: { sidecar__v1__prune_request__get_packed_size($0) },
            pack: { sidecar__v1__prune_request__pack($0, $1) })
    }
}

public struct PruneResponse: WireMessage, Equatable {
    public var report: PruneReport

    public init(report: PruneReport) {
        self.report = report
    }

    package init(wireBytes: UnsafeRawBufferPointer) throws {
        self = try ProtobufCField.unpack(
            wireBytes, name: "PruneResponse",
            unpack: { sidecar__v1__prune_response__unpack(nil, $0, $1) },
            free: { sidecar__v1__prune_response__free_unpacked($0, nil) }
        ) { c in
            PruneResponse(report: PruneReport(
                removed: ProtobufCField.strings(c.removed, count: c.n_removed), bytesFreed: c.bytes_freed,
                keptLeased: ProtobufCField.strings(c.kept_leased, count: c.n_kept_leased)))
        }
    }

    package func wireBytes() -> [UInt8] {
        let arena = PackArena()
        var c = Sidecar__V1__PruneResponse()
        sidecar__v1__prune_response__init(&c)
        c.n_removed = report.removed.count
        c.removed = arena.strings(report.removed)
        c.bytes_freed = report.bytesFreed
        c.n_kept_leased = report.keptLeased.count
        c.kept_leased = arena.strings(report.keptLeased)
        return withExtendedLifetime(arena) {
            ProtobufCField.pack(
                &c, size: { sidecar__v1__prune_response__get_packed_size($0) },
                pack: { sidecar__v1__prune_response__pack($0, $1) })
        }
    }
}
