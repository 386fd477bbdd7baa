import Foundation
import SidecarConfig
import SidecarCore
import SidecarImages
import SidecarLoop

/// `images.backend = "command"`: every operation is an argv from the config,
/// run with `uv_spawn` (never a shell). `{ref}`, `{name}` and `{source}` (the
/// pull source, else the ref) are replaced inside an element, which stays one
/// argument. Presence is not reported by events: the coordinator trusts a
/// check for `images.presence_ttl`.
final class CommandImageBackend: ImageBackend {
    let reportsEvents = false
    var presenceTracking: String { "ttl: the command backend hears of no changes" }
    var onEvent: ((ImageBackendEvent) -> Void)?

    /// A presence check or a removal that takes longer is a broken backend.
    static let quickCommandTimeoutSeconds = 60.0

    private let loop: EventLoop
    private var templates: DaemonConfig.CommandTemplates
    private var stallSeconds = 0.0
    private var running: [ObjectIdentifier: ChildProcess] = [:]
    /// The build running for each ref, for `stopBuild`.
    private var builds: [String: ChildProcess] = [:]

    init(loop: EventLoop, templates: DaemonConfig.CommandTemplates) {
        self.loop = loop
        self.templates = templates
    }

    func configure(_ templates: DaemonConfig.CommandTemplates) {
        self.templates = templates
    }

    func presence(of image: ImageSpec, _ done: @escaping (Result<ImagePresence, ImageBackendFailure>) -> Void) {
        run(templates.exists, for: image, workdir: nil, timeout: Self.quickCommandTimeoutSeconds, what: "exists") { result in
            switch result {
            case .failure(let failure):
                done(.failure(failure))
            case .success(let outcome) where outcome.succeeded:
                done(.success(.present(id: "")))
            case .success(let outcome) where outcome.signal == 0 && !outcome.timedOut && outcome.exitStatus == 1:
                done(.success(.missing))
            case .success(let outcome):
                done(.failure(ImageBackendFailure(
                    .unavailable, "the exists command \(Self.ended(outcome)) (0 means present, 1 missing)", output: outcome.output)))
            }
        }
    }

    func canBuild(_ image: ImageSpec) -> Bool { !buildArgv(image).isEmpty }
    func canPull(_ image: ImageSpec) -> Bool { !templates.pull.isEmpty }

    func build(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        let child = job(buildArgv(image), image: image, workdir: image.workdir, timeout: timeoutSeconds, what: "build", outcome: .built) {
            [weak self] result in
            self?.builds[image.ref] = nil
            done(result)
        }
        if let child { builds[image.ref] = child }
    }

    func stopBuild(of image: ImageSpec) {
        builds[image.ref]?.kill()
    }

    var canPublish: Bool { !templates.push.isEmpty }

    /// Runs the push template with `{target}` and a `{digestfile}` it must
    /// write the pushed manifest's digest to.
    func publish(
        _ image: ImageSpec, to target: String, timeoutSeconds: Double, _ done: @escaping (Result<String, ImageBackendFailure>) -> Void
    ) {
        push(templates.push, image, to: target, timeoutSeconds: timeoutSeconds, done)
    }

    /// Runs `template` (with `{target}`, `{digestfile}` and the usual
    /// placeholders) and answers the digest it wrote to `{digestfile}`: the
    /// push template, and the OCI layout's `skopeo copy --digestfile`.
    func push(
        _ template: [String], _ image: ImageSpec, to target: String, timeoutSeconds: Double,
        _ done: @escaping (Result<String, ImageBackendFailure>) -> Void
    ) {
        let digestFile = NSTemporaryDirectory() + "sidecar-digest-" + UUID().uuidString
        let argv = template.map { $0.replacing("{target}", with: target).replacing("{digestfile}", with: digestFile) }
        run(argv, for: image, workdir: nil, timeout: timeoutSeconds, what: "push") { [loop] result in
            let read = { (outcome: @escaping (String) -> Void) in
                do {
                    try ThreadPoolWork.compute(loop: loop, {
                        defer { try? FileManager.default.removeItem(atPath: digestFile) }
                        return (try? String(contentsOfFile: digestFile, encoding: .utf8)) ?? ""
                    }, then: outcome)
                } catch {
                    outcome("")
                }
            }
            switch result {
            case .success(let ran) where ran.succeeded:
                read { text in
                    let digest = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    guard digest.hasPrefix("sha256:") else {
                        return done(.failure(ImageBackendFailure(.failed, "the push to \(target) wrote no digest", output: ran.output)))
                    }
                    done(.success(digest))
                }
            case .success(let ran):
                read { _ in
                    done(.failure(ImageBackendFailure(ran.timedOut ? .timedOut : .failed, "the push to \(target) \(Self.ended(ran))", output: ran.output)))
                }
            case .failure(let failure):
                done(.failure(failure))
            }
        }
    }

    func pull(_ image: ImageSpec, timeoutSeconds: Double, _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void) {
        job(templates.pull, image: image, workdir: nil, timeout: timeoutSeconds, what: "pull", outcome: .pulled, done)
    }

    func remove(_ image: ImageSpec, _ done: @escaping (Result<Void, ImageBackendFailure>) -> Void) {
        run(templates.remove, for: image, workdir: nil, timeout: Self.quickCommandTimeoutSeconds, what: "remove") { result in
            switch result {
            case .success(let outcome) where outcome.succeeded: done(.success(()))
            case .success(let outcome): done(.failure(ImageBackendFailure(.failed, "remove \(Self.ended(outcome))", output: outcome.output)))
            case .failure(let failure): done(.failure(failure))
            }
        }
    }

    func configure(_ images: DaemonConfig.ImagesConfig) {
        configure(images.command)
        stallSeconds = images.jobStallTimeoutSeconds
    }

    /// Kills every child still running (shutdown).
    func close() {
        for child in running.values { child.kill() }
    }

    private func buildArgv(_ image: ImageSpec) -> [String] {
        image.build.isEmpty ? templates.build : image.build
    }

    /// The child, while it runs (nil when it ended at once or never started).
    @discardableResult
    private func job(
        _ template: [String], image: ImageSpec, workdir: String?, timeout: Double, what: String, outcome: ImageOutcome,
        _ done: @escaping (Result<ImageJobResult, ImageBackendFailure>) -> Void
    ) -> ChildProcess? {
        let stall = stallSeconds
        let progress: (String) -> Void = { [weak self] line in self?.onEvent?(.progress(ref: image.ref, line: line)) }
        return run(template, for: image, workdir: workdir, timeout: timeout, stall: stall, progress: progress, what: what) { result in
            switch result {
            case .success(let ran) where ran.succeeded:
                done(.success(ImageJobResult(outcome: outcome)))
            case .success(let ran):
                let how = ran.stalled
                    ? "was killed with its process group after printing nothing for \(DurationText.format(stall)) (images.job_stall_timeout)"
                    : ran.timedOut
                    ? "was killed with its process group after its time-out of \(DurationText.format(timeout))" : Self.ended(ran)
                done(.failure(ImageBackendFailure(ran.timedOut ? .timedOut : .failed, "\(what) \(how)", output: ran.output)))
            case .failure(let failure):
                done(.failure(failure))
            }
        }
    }

    @discardableResult
    private func run(
        _ template: [String], for image: ImageSpec, workdir: String?, timeout: Double, stall: Double = 0,
        progress: ((String) -> Void)? = nil, what: String, _ done: @escaping (Result<ChildProcess.Outcome, ImageBackendFailure>) -> Void
    ) -> ChildProcess? {
        let argv = Self.substitute(template, image: image)
        guard !argv.isEmpty else {
            done(.failure(ImageBackendFailure(.unavailable, "images.command.\(what) is empty")))
            return nil
        }
        var key: ObjectIdentifier?
        do {
            let child = try ChildProcess(
                loop: loop, argv: argv, workingDirectory: workdir, timeoutSeconds: timeout, stallSeconds: stall
            ) { [weak self] outcome in
                if let key { self?.running[key] = nil }
                done(.success(outcome))
            }
            child.onLine = progress
            key = ObjectIdentifier(child)
            running[key!] = child
            return running[key!]
        } catch {
            done(.failure(ImageBackendFailure(.unavailable, "\(error)")))
            return nil
        }
    }

    static func substitute(_ template: [String], image: ImageSpec) -> [String] {
        let source = image.pull.isEmpty ? image.ref : image.pull
        return template.map {
            $0.replacing("{ref}", with: image.ref).replacing("{name}", with: image.name).replacing("{source}", with: source)
        }
    }

    static func ended(_ outcome: ChildProcess.Outcome) -> String {
        if outcome.timedOut { return "was killed with its process group at its time-out" }
        if outcome.signal != 0 { return "was killed by signal \(outcome.signal)" }
        return "exited with status \(outcome.exitStatus)"
    }
}
