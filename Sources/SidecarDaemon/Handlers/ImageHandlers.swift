import SidecarWire

/// EnsureImage, ListImages, Prune (admin) and the lease methods.
enum ImageHandlers {
    static func specs(images: ImageService) -> [MethodSpec] {
        let leases = images.leases
        return [
            .deferred("EnsureImage") { (call, request: EnsureImageRequest) in
                try images.ensure(request, call: call)
            },
            .unary("ListImages") { (_, _: ListImagesRequest) in ListImagesResponse(images: try images.list()) },
            .deferred("Prune", admin: true) { (call, request: PruneRequest) in
                try images.prune(dryRun: request.dryRun, peer: call.peer) { call.respond(PruneResponse(report: $0)) }
            },
            .unary("AcquireLease") { (_, request: AcquireLeaseRequest) in
                try leases.acquire(target: request.target, holder: request.holder, ttlSeconds: request.ttlSeconds)
            },
            .unary("ReleaseLease") { (_, request: ReleaseLeaseRequest) in
                try leases.release(id: request.id)
                return ReleaseLeaseResponse()
            },
            .unary("ListLeases") { (_, _: ListLeasesRequest) in ListLeasesResponse(leases: leases.live()) },
        ]
    }
}
