import Foundation
import SidecarConfig
import SidecarCore
import SidecarImages
import SidecarLoop
import SidecarWire

/// EnsureImage, ListImages and Prune on the daemon: the coordinator over the
/// configured backend, its events on the bus, leases that block removal, and
/// a one-second tick for `keep_warm` images and lease expiry.
final class ImageService {
    static let tickMilliseconds: UInt64 = 1000

    let leases: LeaseService
    private let context: DaemonContext
    private let coordinator: ImageCoordinator
    private let commandBackend: CommandImageBackend?
    private let dockerBackend: DockerEngineBackend?
    private let ociBackend: OCILayoutBackend?
    private let timer: LoopTimer
    private var pruning = false
    private var lastPruneNanoseconds = EventLoop.monotonicNanoseconds()

    init(loop: EventLoop, context: DaemonContext) throws {
        self.context = context
        leases = try LeaseService(context: context)
        let images = context.config.images
        let backend: ImageBackend
        switch images.backend {
        case .command:
            let command = CommandImageBackend(loop: loop, templates: images.command)
            (commandBackend, dockerBackend, ociBackend) = (command, nil, nil)
            backend = command
        case .docker:
            let socket = context.config.dockerSocketPath(environment: ProcessInfo.processInfo.environment)
            let docker = try DockerEngineBackend(loop: loop, socketPath: socket)
            (commandBackend, dockerBackend, ociBackend) = (nil, docker, nil)
            backend = docker
        case .ociLayout:
            let logger = context.logger
            let oci = try OCILayoutBackend(
                loop: loop, root: context.config.ociLayoutPath, database: context.state, templates: images.command,
                insecureRegistries: images.insecureRegistries, logger: { logger.info("\($0)") })
            (commandBackend, dockerBackend, ociBackend) = (nil, nil, oci)
            backend = oci
        }
        coordinator = ImageCoordinator(images: images, backend: backend, clock: DaemonImageClock(), classifier: context.classifier)
        timer = try LoopTimer(loop: loop)
        coordinator.isLeased = { [unowned leases] names in leases.holds(any: names) }
        coordinator.onEvent = { [unowned context] event in
            context.events.publish(topic: event.topic, subject: event.subject, message: event.message, attributes: event.attributes)
            if event.topic.hasPrefix("image.job.") {
                context.metrics.increment("sidecar_image_jobs_total", label: String(event.topic.dropFirst("image.job.".count)))
            }
            if event.topic == "image.job.failed" || event.topic == "image.prune_failed" {
                context.logger.warning("\(event.subject): \(event.message)")
            } else {
                context.logger.info("\(event.subject): \(event.message)")
            }
        }
    }

    /// Starts the tick, which also makes `keep_warm` images present now.
    func start() {
        if let dockerBackend {
            context.logger.info("images: Docker engine API at \(dockerBackend.socketPath)")
            do {
                try dockerBackend.start()
            } catch {
                context.logger.error("images: cannot follow the engine's events: \(error)")
            }
        }
        if let ociBackend { context.logger.info("images: OCI layout at \(ociBackend.layout.root)") }
        coordinator.tick()
        timer.start(after: Self.tickMilliseconds, repeat: Self.tickMilliseconds) { [unowned self] in
            leases.sweep()
            coordinator.tick()
            pruneIfDue()
        }
        timer.unref()
    }

    /// `images.prune_every`: the daemon's own prune, one at a time.
    private func pruneIfDue() {
        let every = context.config.images.pruneEverySeconds
        let now = EventLoop.monotonicNanoseconds()
        guard every > 0, !pruning, Double(now - lastPruneNanoseconds) / 1e9 >= every else { return }
        pruning = true
        lastPruneNanoseconds = now
        coordinator.prune(dryRun: false) { [unowned self] report in
            pruning = false
            context.logger.info(
                "scheduled prune: removed \(report.removed.count) (\(report.bytesFreed) bytes), kept \(report.keptLeased.count) leased")
        }
    }

    func configure(_ config: DaemonConfig) {
        commandBackend?.configure(config.images.command)
        ociBackend?.configure(templates: config.images.command, insecureRegistries: config.images.insecureRegistries)
        coordinator.configure(images: config.images, classifier: context.classifier)
    }

    func close() {
        timer.close()
        commandBackend?.killAll()
        ociBackend?.killAll()
        dockerBackend?.close()
    }

    // MARK: Methods

    func ensure(_ request: EnsureImageRequest, call: ActiveCall) throws {
                let holder = request.leaseHolder
        let ttl = request.leaseTTLSeconds == 0 ? LeaseService.defaultTTLSeconds : request.leaseTTLSeconds
        if !holder.isEmpty && ttl > LeaseTable.maxTTLSeconds {
            throw SidecarError(.invalidArgument, "lease_ttl_seconds is at most \(LeaseTable.maxTTLSeconds)")
        }
        let token = coordinator.ensure(request.image) { [context, leases] result in
            switch result {
            case .success(var answer):
                context.metrics.increment("sidecar_image_ensure_total", label: answer.outcome == .present && !answer.coalesced ? "present" : "joined")
                if !holder.isEmpty {
                    do {
                        answer.lease = try leases.acquire(target: answer.name, holder: holder, ttlSeconds: ttl)
                    } catch {
                        return call.fail(StatusMapping.status(for: error))
                    }
                }
                call.respond(EnsureImageResponse(answer: answer))
            case .failure(let error):
                context.metrics.increment("sidecar_image_ensure_total", label: "failed")
                call.fail(error)
            }
        }
        if let token, !call.isFinished {
            call.onCancel = { [coordinator] in coordinator.leave(token) }
        }
    }

    func list() throws -> [ImageStatus] {
        coordinator.list()
    }

    func prune(dryRun: Bool, peer: PeerCredentials, done: @escaping (PruneReport) -> Void) throws {
                context.logger.info("prune\(dryRun ? " (dry run)" : "") asked by uid \(peer.uid)")
        coordinator.prune(dryRun: dryRun, done: done)
    }
}
