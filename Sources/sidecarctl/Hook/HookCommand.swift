import ArgumentParser
import SidecarCore

/// `sidecarctl hook STAGE`: an OCI hook for podman and CRI-O (hooks.d),
/// acting only on the container's `sidecar.*` annotations. See
/// docs/hooks/README.md for the hooks.d files and the annotations.
struct HookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "An OCI hook (hooks.d, podman and CRI-O): acts on the container's sidecar.* annotations.",
        discussion: """
            Reads the container's OCI state on stdin (at most 1 MiB, within 5 s; a whole JSON object ends \
            the read without EOF). No sidecar.* annotation: exits 0 at once, without asking the daemon. \
            At prestart or createRuntime: sidecar.check-db=PATH[,PATH...] checks each database (container \
            paths map to host paths through the bundle's mounts) and a damaged one fails the start; \
            sidecar.lease=IMAGE takes a lease bound to the container's init process. At poststop the lease \
            is released. The daemon unreachable: the container starts and the hook says why on stderr, \
            unless sidecar.required=true. Exit statuses: 0 go on; 65 a database is corrupt or not a \
            database; 64 bad input (unknown stage, empty or non-JSON stdin, not an OCI state, no EOF in \
            time, a malformed annotation); with sidecar.required=true, 69 the daemon unreachable and 1, 75 \
            or 77 as the daemon answered. Stages: \(HookStage.names).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The OCI hook stage this hook is installed for: prestart, createRuntime or poststop (others do nothing).")
    var stage: String

    func run() async throws {
        var run = HookRun(stageName: stage, global: global)
        do {
            try await run.run()
        } catch {
            let failure: HookFailure = error
            run.say(failure.message)
            throw ExitCode(failure.exitCode.rawValue)
        }
    }
}
