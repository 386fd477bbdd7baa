import SidecarClient
import SidecarCore

/// One run of the hook: the state read, the annotations obeyed.
struct HookRun {
    /// A hook must end: calls give up after this unless --timeout says otherwise.
    static let defaultCallTimeout = Duration.seconds(10)

    let stageName: String
    let global: GlobalOptions
    private var container = ""

    init(stageName: String, global: GlobalOptions) {
        self.stageName = stageName
        self.global = global
    }

    /// Messages go to stderr, which the runtime puts into its error or log.
    func say(_ text: String) {
        let subject = container.isEmpty ? "" : " container \(container.prefix(12)):"
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            Output.error("sidecarctl hook \(stageName):\(subject) \(line)")
        }
    }

    mutating func run() async throws(HookFailure) {
        guard let stage = HookStage(rawValue: stageName) else {
            throw .badInput("unknown stage \"\(stageName)\"; one of \(HookStage.names)")
        }
        let state = try ContainerState.parse(try HookInput.read())
        // The common case, for every container on the host: nothing asked.
        guard let asked = try HookAnnotations.read(state.annotations) else { return }
        container = state.id
        for key in asked.unknown { say("ignoring the unknown annotation \(key)") }
        let client = SidecarClient(socketPath: global.socket, options: .init(clientName: "sidecarctl-hook"))
        do {
            if stage.startsContainer {
                try await start(state, asked, client)
            } else if stage == .poststop {
                try await stop(state, asked, client)
            }
        } catch let failure as HookFailure {
            throw failure
        } catch {
            let sidecarError = error as? SidecarError ?? SidecarError(.internal, "\(error)")
            let reason = "\(sidecarError.code.name): \(sidecarError.message)"
            guard asked.required else {
                return say("going on without the sidecar (\(HookAnnotations.required) is not true): \(reason)")
            }
            throw .required(
                "\(HookAnnotations.required)=true and the sidecar could not answer: \(reason)", CommandRunner.exitCode(for: sidecarError))
        }
    }

    private var timeout: Duration { global.callTimeout ?? Self.defaultCallTimeout }

    private func start(_ state: ContainerState, _ asked: HookAnnotations, _ client: SidecarClient) async throws {
        if !asked.databases.isEmpty {
            let mounts = BundleMounts.read(bundle: state.bundle)
            let findings = try await DatabaseGate.check(asked.databases.map(mounts.hostPath), with: client, timeout: timeout)
            for note in findings.notes { say(note) }
            if !findings.damaged.isEmpty {
                throw HookFailure.corruptDatabase("not starting: " + findings.damaged.joined(separator: "\n"))
            }
        }
        if let target = asked.leaseTarget {
            guard let pid = state.pid, let process = ProcessIdentity.of(pid: pid) else {
                let why = state.pid.map { "its init process \($0) is not running" } ?? "the OCI state has no \"pid\""
                throw SidecarError(.failedPrecondition, "cannot lease \(target) for the container: \(why)")
            }
            _ = try await client.acquireLease(
                target: target, holder: HookAnnotations.holder(container: state.id), ttlSeconds: 0, holderProcess: process,
                timeout: timeout)
        }
    }

    /// The lease would end with the container's process anyway; releasing it
    /// here ends it without waiting for the daemon to notice.
    private func stop(_ state: ContainerState, _ asked: HookAnnotations, _ client: SidecarClient) async throws {
        guard asked.leaseTarget != nil else { return }
        let holder = HookAnnotations.holder(container: state.id)
        for lease in try await client.listLeases(timeout: timeout) where lease.holder == holder {
            do {
                try await client.releaseLease(id: lease.id, timeout: timeout)
            } catch let error as SidecarError where error.code == .notFound {
                // Ended by the daemon meanwhile, with the container's process.
            }
        }
    }
}
