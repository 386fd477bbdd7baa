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

    /// The host pid of a running container's init process.
    func pid(ofContainer name: String) throws -> Int32? {
        Int32(try podman(["inspect", "--format", "{{.State.Pid}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// hooks.d files for `sidecarctl hook`, at prestart and poststop, for
    /// containers with a sidecar.* annotation (or every one: `always`).
    func installHooks(socket: String, always: Bool = false) throws {
        for stage in ["prestart", "poststop"] {
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
