import Foundation
import XCTest

/// Real containers for a test: podman on a store of its own under a temp
/// folder (vfs), run by runc with no network (NOTES-interop: crun cannot run
/// containers on this VM), an image made of busybox-static, and a hooks.d
/// folder holding `sidecarctl hook` for prestart and poststop.
final class ContainerHost {
    static let podman = "/usr/bin/podman"
    static let busybox = "/bin/busybox"

    /// Skips (with the reason) where the tools are missing;
    /// scripts/install-deps.sh test installs them.
    static func skipUnlessAvailable() throws {
        for tool in [podman, "/usr/sbin/runc", busybox] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) is not installed (scripts/install-deps.sh test installs podman, runc and busybox-static)")
        }
    }

    let directory: String
    let hooksDirectory: String
    let contextDirectory: String

    init(directory: String) throws {
        self.directory = directory + "/podman"
        hooksDirectory = self.directory + "/hooks.d"
        contextDirectory = self.directory + "/context"
        for folder in [hooksDirectory, contextDirectory] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: Self.busybox, toPath: contextDirectory + "/busybox")
        try "FROM scratch\nCOPY busybox /bin/busybox\n".write(toFile: contextDirectory + "/Dockerfile", atomically: true, encoding: .utf8)
    }

    /// Every podman command on this host's own store.
    var storeArguments: [String] {
        [
            "--root", directory + "/root", "--runroot", directory + "/runroot", "--tmpdir", directory + "/tmp",
            "--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs",
        ]
    }

    /// `podman ... run` with what runs a container here; the image and its
    /// command follow. Never pulls: a missing image is the engine's exit 125.
    func runArguments(_ options: [String] = [], hooks: Bool = false) -> [String] {
        [Self.podman] + storeArguments + (hooks ? ["--hooks-dir", hooksDirectory] : []) + [
            "run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024",
            "--ulimit", "nproc=1024:1024", "--pull=never",
        ] + options
    }

    /// The command backend's config over this store: `exists` and a build
    /// of `ref` from the busybox context, each build logged to `buildLog`.
    func commandBackendConfig(name: String, ref: String, extraImagesKeys: String = "") -> String {
        func list(_ words: [String]) -> String { words.map { "\"\($0)\"" }.joined(separator: ", ") }
        let build = "echo build >> \(buildLog); exec " + ([Self.podman] + storeArguments + ["build", "-q", "-t", ref, contextDirectory])
            .joined(separator: " ")
        return DaemonProcess.baseConfig + """
            [images]
            backend = "command"
            \(extraImagesKeys)
            [images.command]
            exists = [\(list([Self.podman] + storeArguments + ["image", "exists", "{ref}"]))]
            remove = [\(list([Self.podman] + storeArguments + ["rmi", "{ref}"]))]
            pull = []
            [[images.image]]
            name = "\(name)"
            ref = "\(ref)"
            build = ["/bin/sh", "-c", "\(build)"]

            """
    }

    var buildLog: String { directory + "/builds.log" }
    var builds: Int { ((try? String(contentsOfFile: buildLog, encoding: .utf8)) ?? "").split(separator: "\n").count }

    @discardableResult
    func podman(_ arguments: [String]) throws -> CommandResult {
        try CommandResult.run(Self.podman, storeArguments + arguments)
    }

    func imageExists(_ ref: String) -> Bool {
        (try? podman(["image", "exists", ref]).status) == 0
    }

    /// `podman ... run -d` (with the hooks when `hooks`), its output in
    /// files. Not through Foundation's `Process`: it gives its child one end
    /// of a socket pair and sees the exit only when every holder of that end
    /// has closed it, and conmon, which outlives podman with the container,
    /// inherits it (as it would a pipe for stdout), so `run -d` would seem to
    /// run for as long as the container. Here the child keeps fds 0 to 2
    /// only, and is waited for with waitpid; killed (and an error) if it has
    /// not returned within `seconds`.
    func runDetached(_ options: [String], hooks: Bool, seconds: Double = 60) throws -> CommandResult {
        let argv = runArguments(["-d"] + options, hooks: hooks)
        let name = UUID().uuidString.prefix(8)
        let out = "\(directory)/run-\(name).out"
        let err = "\(directory)/run-\(name).err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // posix_spawn_file_actions_addclosefrom_np is not visible to Swift
        // (__USE_GNU): each fd open now above 2, closed in the child (glibc
        // ignores one closed meanwhile).
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw DaemonFailure(message: "cannot start podman: \(String(cString: strerror(spawned)))") }
        let read = { (file: String) in (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw DaemonFailure(message: "podman run -d did not return within \(seconds) s: \(read(err))")
            }
            usleep(10_000)
        }
        // The shell's status: the exit status, or 128 + the signal.
        let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return CommandResult(status: exitStatus, stdout: read(out), stderr: read(err))
    }

    /// The host pid of a running container's init process.
    func pid(ofContainer name: String) throws -> Int32? {
        Int32(try podman(["inspect", "--format", "{{.State.Pid}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// hooks.d files for `sidecarctl hook`, at prestart and poststop (or the
    /// `stages` given), for containers with a sidecar.* annotation (or every
    /// one: `always`). The hook gets only the environment written here (not
    /// podman's), so the daemon's socket is in it.
    func installHooks(socket: String, always: Bool = false, stages: [String] = ["prestart", "poststop"]) throws {
        for stage in stages {
            let when: [String: Any] = always ? ["always": true] : ["annotations": ["^sidecar\\.": ".*"]]
            let hook: [String: Any] = [
                "version": "1.0.0", "stages": [stage], "when": when,
                "hook": ["path": DaemonProcess.sidecarctlPath, "args": ["sidecarctl", "hook", stage], "env": ["SIDECAR_SOCKET=\(socket)"]],
            ]
            try JSONSerialization.data(withJSONObject: hook).write(to: URL(fileURLWithPath: "\(hooksDirectory)/sidecar-\(stage).json"))
        }
    }

    deinit {
        // Containers left by a failed test, then the store (vfs layers are plain folders).
        _ = try? podman(["rm", "-a", "-f", "-t", "0"])
        try? FileManager.default.removeItem(atPath: directory)
    }
}
