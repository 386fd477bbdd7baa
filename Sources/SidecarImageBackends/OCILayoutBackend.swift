import Foundation
import SidecarConfig
import SidecarCore
import SidecarImages
import SidecarLoop
import SidecarOCI
import SidecarStore

/// `images.backend = "oci-layout"`: an OCI image layout on disk, treated as
/// a cache that is verified, never trusted. Present means the ref is in
/// `index.json` and every blob it reaches has its size and sha256 (hashed on
/// the thread pool, once per unchanged blob). Damage is repaired by removing
/// the broken parts and pulling again with `skopeo copy`; when that pull
/// fails, an older copy that still verifies is answered STALE. Builds run
/// through the command templates, when configured.
final class OCILayoutBackend: ImageBackend {
    /// While the layout is watched, a present image stays known present
    /// until a change to what it is made of (or the watch's loss) says
    /// otherwise; without the watch, for `presence_ttl`.
    var reportsEvents: Bool { watch.isWatching }
    var onEvent: ((ImageBackendEvent) -> Void)?
    let watch: OCILayoutWatch

    let layout: OCILayout
    let loop: EventLoop
    let store: OCIStore
    private let gate = StoreGate()
    private let known: KnownImageStore
    private var records: [String: KnownImageStore.Record] = [:]
    private let builder: CommandImageBackend
    private var insecureRegistries: [String]
    private let logger: (String) -> Void

    init(
        loop: EventLoop, root: String, database: Database, templates: DaemonConfig.CommandTemplates,
        insecureRegistries: [String], verified: VerifiedBlobs = VerifiedBlobs(), logger: @escaping (String) -> Void
    ) throws {
        self.loop = loop
        layout = OCILayout(root: root)
        try layout.prepare()
        store = OCIStore(layout: layout, verified: verified)
        known = KnownImageStore(database: database)
        for record in try known.loadAll() { records[record.ref] = record }
        builder = CommandImageBackend(loop: loop, templates: templates)
        self.insecureRegistries = insecureRegistries
        self.logger = logger
        watch = OCILayoutWatch(loop: loop, root: layout.root, blobsPath: layout.blobsPath, log: logger)
        watch.onChange = { [unowned self] refs, reason in
            if let refs {
                onEvent?(.changed(refs: refs, reason: reason))
            } else {
                logger("images: \(reason): every image is checked again before it is answered present")
                onEvent?(.resynchronized)
            }
        }
        // A build's progress is this backend's.
        builder.onEvent = { [unowned self] event in onEvent?(event) }
    }

    var summary: String { "OCI layout at \(layout.root)" }

    func start() throws {
        watch.start()
    }

    func deliverPendingEvents() {
        watch.deliverPending()
    }

    var presenceTracking: String {
        watch.unwatchedReason.map { "ttl: \($0)" } ?? "events"
    }

    func configure(_ images: DaemonConfig.ImagesConfig) {
        builder.configure(images)
        insecureRegistries = images.insecureRegistries
    }

    func close() {
        watch.close()
        builder.close()
    }

    // MARK: ImageBackend

    func presence(of image: ImageSpec, _ done: @escaping (Result<ImagePresence, ImageBackendFailure>) -> Void) {
        let ref = image.ref
        let verifier = store.verifier
        onPool(shared: true, { verifier.verify(ref: ref) }) { [self] result in
            switch result {
            case .intact(let manifest, let blobs):
                remember(ref, manifest)
                watch.watch(ref: ref, blobs: blobs)
                done(.success(.present(id: manifest.digest)))
            case .absent:
                done(.success(records[ref] == nil ? .missing : .damaged(OCIDamage.refMissing(ref).description)))
            case .damaged(let damages):
                done(.success(.damaged(damages.map(\.description).joined(separator: "; "))))
            }
        }
    }

    func canBuild(_ image: ImageSpec) -> Bool { builder.canBuild(image) }
    func canPull(_ image: ImageSpec) -> Bool { true }

    func build(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        repairFirst(image.ref) { [builder] in builder.build(image, timeoutSeconds: timeoutSeconds, done) }
    }

    func stopBuild(of image: ImageSpec) { builder.stopBuild(of: image) }

    func pull(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        let ref = image.ref
        let source = image.pull.isEmpty ? image.ref : image.pull
        repairFirst(ref) { [self] in
            // By digest (a fleet's published build): in the daemon when it can.
            if source.contains("@sha256:"), RegistryFetch.parse(source) != nil {
                let incoming = layout.incomingPath + "/" + UUID().uuidString
                return RegistryFetch.fetch(
                    source, insecure: isInsecure(source), ref: ref, into: incoming, loop: loop, timeoutSeconds: timeoutSeconds
                ) { [self] failure in
                    if let failure {
                        logger("images: fetching \(source) in the daemon failed (\(failure)); pulling with skopeo")
                        removeIncoming(incoming)
                        return copyWithSkopeo(image, timeoutSeconds: timeoutSeconds, done)
                    }
                    importPulled(ref, from: incoming, done)
                }
            }
            copyWithSkopeo(image, timeoutSeconds: timeoutSeconds, done)
        }
    }

    private func copyWithSkopeo(
        _ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) {
        let ref = image.ref
        let source = image.pull.isEmpty ? image.ref : image.pull
        let incoming = layout.incomingPath + "/" + UUID().uuidString
        var argv = ["skopeo", "copy", "--quiet"]
        if isInsecure(source) { argv.append("--src-tls-verify=false") }
        argv += ["docker://" + source, "oci:\(incoming):\(ref)"]
        let copied: (ChildProcess.Outcome?, String) -> Void = { [self] outcome, startFailure in
            guard let outcome, outcome.succeeded else {
                let message = outcome.map { "skopeo copy from \(source) \(CommandImageBackend.ended($0))" } ?? startFailure
                let failure = ImageBackendFailure(
                    outcome?.timedOut == true ? .timedOut : .failed, message, output: outcome?.output ?? "")
                removeIncoming(incoming)
                return answerStale(ref, after: failure, done)
            }
            importPulled(ref, from: incoming, done)
        }
        do {
            _ = try ChildProcess(loop: loop, argv: argv, workingDirectory: nil, timeoutSeconds: timeoutSeconds) { copied($0, "") }
        } catch {
            copied(nil, "cannot run skopeo: \(error)")
        }
    }

    var canPublish: Bool { true }

    /// `skopeo copy` of the ref from the layout to `target`; the digest is
    /// the manifest's as pushed (skopeo writes it to a file).
    func publish(
        _ image: ImageSpec, to target: String, timeoutSeconds: Double, _ done: @escaping (Result<String, ImageBackendFailure>) -> Void
    ) {
        let argv = ["skopeo", "copy", "--quiet", "--digestfile", "{digestfile}"] + (isInsecure(target) ? ["--dest-tls-verify=false"] : [])
            + ["oci:\(layout.root):{ref}", "docker://{target}"]
        builder.push(argv, image, to: target, timeoutSeconds: timeoutSeconds, done)
    }

    /// Verifies the image in `incoming` and takes it into the layout.
    private func importPulled(_ ref: String, from incoming: String, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        let store = store
        onPool(shared: false, { Result { try store.importImage(ref: ref, from: incoming) } }) { [self] imported in
            removeIncoming(incoming)
            switch imported {
            case .success(let manifest):
                remember(ref, manifest)
                done(.success(ImageJobResult(outcome: .pulled, id: manifest.digest)))
            case .failure(let error):
                answerStale(ref, after: ImageBackendFailure(.failed, "the pulled image could not be stored: \(error)"), done)
            }
        }
    }

    func remove(_ image: ImageSpec, _ done: @escaping (Result<Void, ImageBackendFailure>) -> Void) {
        let ref = image.ref
        let store = store
        onPool(shared: false, { Result { try store.removeRef(ref) } }) { [self] removed in
            switch removed {
            case .success:
                watch.forget(ref: ref)
                forget(ref)
                done(.success(()))
            case .failure(let error):
                done(.failure(ImageBackendFailure(.failed, "cannot drop \(ref) from index.json: \(error)")))
            }
        }
    }

    func collectGarbage(dryRun: Bool, _ done: @escaping (Result<PruneReport, ImageBackendFailure>) -> Void) {
        let protected = records.values.map(Self.descriptor)
        let store = store
        onPool(shared: false, { Result { try store.collectGarbage(protected: protected, dryRun: dryRun) } }) { collected in
            switch collected {
            case .success(let collected): done(.success(PruneReport(removed: collected.removed, bytesFreed: collected.bytes)))
            case .failure(let error): done(.failure(ImageBackendFailure(.failed, "\(error)")))
            }
        }
    }

    // MARK: Repair and the older copy

    /// Removes what is broken about `ref` (and rebuilds a damaged index.json
    /// from the other known refs) before it is made again.
    private func repairFirst(_ ref: String, then next: @escaping () -> Void) {
        let store = store
        let knownManifests = records.values.map(Self.descriptor)
        onPool(shared: false, { () -> Result<[String], Error> in
            guard case .damaged(let damages) = store.verifier.verify(ref: ref) else { return .success([]) }
            return Result { try store.repair(ref: ref, damages: damages, known: knownManifests) }
        }) { [self] repaired in
            switch repaired {
            case .success(let steps): for step in steps { logger("\(ref): repair: \(step)") }
            case .failure(let error): logger("\(ref): repair failed: \(error)")
            }
            next()
        }
    }

    /// After a failed refresh: the last copy of `ref` that still verifies,
    /// put back in index.json and answered STALE; else the failure.
    private func answerStale(
        _ ref: String, after failure: ImageBackendFailure, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) {
        guard let record = records[ref] else { return done(.failure(failure)) }
        let store = store
        let descriptor = Self.descriptor(record)
        onPool(shared: false, { () -> Bool in
            guard case .intact = store.verifier.verify(manifest: descriptor) else { return false }
            return (try? store.setRef(descriptor)) != nil
        }) { restored in
            guard restored else {
                var failure = failure
                failure.message += "; no older copy of \(ref) verifies either"
                return done(.failure(failure))
            }
            let when = Date(timeIntervalSince1970: Double(record.recordedUnixMilliseconds) / 1000)
            done(.success(ImageJobResult(
                outcome: .stale, id: record.digest,
                detail: "refreshing failed (\(failure.message)); answering the copy last verified at \(when)")))
        }
    }

    // MARK: Helpers

    private func remember(_ ref: String, _ manifest: OCIDescriptor) {
        guard records[ref]?.digest != manifest.digest else { return }
        let record = KnownImageStore.Record(
            ref: ref, mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size,
            recordedUnixMilliseconds: WallClock.unixMilliseconds())
        records[ref] = record
        do { try known.save(record) } catch { logger("\(ref): cannot record its manifest: \(error)") }
    }

    private func forget(_ ref: String) {
        records[ref] = nil
        do { try known.delete(ref: ref) } catch { logger("\(ref): cannot forget its manifest: \(error)") }
    }

    private static func descriptor(_ record: KnownImageStore.Record) -> OCIDescriptor {
        OCIDescriptor(mediaType: record.mediaType, digest: record.digest, size: record.size, refName: record.ref)
    }

    private func isInsecure(_ source: String) -> Bool {
        guard let host = source.split(separator: "/").first.map(String.init), source.contains("/") else { return false }
        return insecureRegistries.contains(host)
    }

    private func removeIncoming(_ path: String) {
        try? ThreadPoolWork.submit(loop: loop, work: { try? FileManager.default.removeItem(atPath: path) }, then: {})
    }

    /// Blocking layout work on the thread pool, inside the gate.
    func onPool<Value>(shared: Bool, _ work: @escaping @Sendable () -> Value, then done: @escaping (Value) -> Void) {
        let run: StoreGate.Work = { [loop] release in
            do {
                try ThreadPoolWork.compute(loop: loop, work) { value in
                    release()
                    done(value)
                }
            } catch {
                release()
                done(work())  // the pool refused: do it here rather than never
            }
        }
        if shared { gate.shared(run) } else { gate.exclusive(run) }
    }
}
