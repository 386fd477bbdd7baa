import ArgumentParser
import SidecarCore

/// `sidecarctl run [OPTIONS] -- ENGINE run ARGS...`: what a runner wraps
/// around any engine's `run` (docker, podman, nerdctl), since an engine
/// resolves its image before any OCI hook could help (seeds 001-004).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Ensure the image, check the databases, then run ENGINE's run command as a child and return its status.",
        discussion: """
            Before the engine: ensures the image (--image, else the one in the engine's argv), with --lease \
            a lease bound to this process (it ends when the wrapper does, even killed with -9), and checks \
            each --check-db. The engine runs with stdin and stdout passed through, stderr copied through as \
            it comes; signals the wrapper gets are forwarded to it. Its exit status is returned unchanged \
            (128+N when a signal N killed it). An exit 125 naming a missing image ensures once more and runs \
            again. With --retry-key, a failure asks the daemon's retry ledger: granted, it waits the delay and \
            runs again; denied (permanent) or exhausted exits 1 with the remedy, throttled exits 75; a \
            success is reported. Exit codes of its own: 1 the image cannot be made (permanent), 64 usage, 65 \
            a database is really corrupt, 69 the sidecar unreachable with --required, 75 temporary.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The image to ensure: a name from the daemon's config or a reference (default: the engine argv's).")
    var image: String?

    @Flag(help: "Lease the image for as long as this wrapper runs (bound to its pid).")
    var lease = false

    @Option(name: .customLong("retry-key"), help: "Ask the retry ledger under this key when the engine fails, e.g. spawn:task-ebdf2deb.")
    var retryKey: String?

    @Option(help: "The retry policy for --retry-key (default: default).")
    var policy: String?

    @Option(name: .customLong("check-db"), help: "A host path of a database the container opens; repeat for more.")
    var checkDb: [String] = []

    @Flag(help: "Refuse to run the engine when the sidecar cannot be reached (default: run it anyway, with a warning).")
    var required = false

    @Argument(parsing: .postTerminator, help: "The engine's command line after --, e.g. -- podman run --rm IMAGE CMD.")
    var engine: [String] = []

    func validate() throws {
        if engine.isEmpty { throw ValidationError("give the engine's command after --, e.g. -- docker run --rm IMAGE") }
        if policy != nil && retryKey == nil { throw ValidationError("--policy goes with --retry-key") }
        if retryKey?.isEmpty == true { throw ValidationError("--retry-key needs a key") }
        if let path = checkDb.first(where: { !$0.hasPrefix("/") }) {
            throw ValidationError("--check-db needs an absolute host path, got \"\(path)\"")
        }
        if image == nil && EngineCommandLine.image(in: engine) == nil {
            throw ValidationError("no image found in the engine's command line (ENGINE [container] run [OPTIONS] IMAGE); give --image")
        }
    }

    func run() async throws {
        let target = image ?? EngineCommandLine.image(in: engine) ?? ""
        let runs = RunAttempts(
            engine: engine, image: target, lease: lease, retryKey: retryKey, policy: policy ?? "", databases: checkDb,
            required: required, global: global)
        let status = await runs.run()
        if status != 0 { throw ExitCode(status) }
    }
}
