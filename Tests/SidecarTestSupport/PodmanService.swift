import Foundation
import SidecarCore

/// A real `podman system service` for a test: its own storage (vfs), run
/// and temp folders and events log under a temp folder, serving the Docker
/// Engine API on `socketPath`. `podman(...)` runs the CLI on the same store.
public final class PodmanService {
    public let directory: String
    public let socketPath: String
    private var process: Process?

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/podman") }

    /// `insecureRegistries`: "HOST:PORT"s the service may reach over plain
    /// HTTP (a registries.conf of its own), as an engine configured for a
    /// local registry.
    public init(insecureRegistries: [String] = []) throws {
        // Short: a Unix socket path holds 107 bytes at most.
        directory = "/tmp/pm-\(UUID().uuidString.prefix(8))"
        socketPath = directory + "/podman.sock"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if !insecureRegistries.isEmpty {
            let registries = insecureRegistries.map { "[[registry]]\nlocation = \"\($0)\"\ninsecure = true\n" }.joined()
            try registries.write(toFile: directory + "/registries.conf", atomically: true, encoding: .utf8)
            environment["CONTAINERS_REGISTRIES_CONF"] = directory + "/registries.conf"
        }
        try start()
    }

    private var environment: [String: String] = [:]

    /// The flags that put every podman command on this service's store.
    public var storeArguments: [String] {
        [
            "--root", directory + "/root", "--runroot", directory + "/runroot", "--tmpdir", directory + "/tmp",
            "--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs",
        ]
    }

    public func start() throws {
        let logPath = directory + "/service.log"
        process = try ToolRun.start(
            "/usr/bin/podman", storeArguments + ["system", "service", "--time=0", "unix://" + socketPath], logPath: logPath,
            environment: environment)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if Self.answers(socketPath) { return }
            usleep(50_000)
        }
        throw PodmanError(message: "podman system service did not answer on \(socketPath); see \(logPath)")
    }

    /// Kills the service and waits for it.
    public func stop() {
        ToolRun.kill(process)
        try? FileManager.default.removeItem(atPath: socketPath)
    }

    @discardableResult
    public func podman(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try ToolRun.run("/usr/bin/podman", storeArguments + arguments)
    }

    public func imageExists(_ ref: String) -> Bool {
        (try? podman(["image", "exists", ref]).status) == 0
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return UnixSocketAddress.connect(fd, to: path) == 0
    }
}

public struct PodmanError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A build context folder: a Dockerfile and the files it copies.
public func makeBuildContext(at path: String, dockerfile: String, files: [String: String] = [:]) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try dockerfile.write(toFile: path + "/Dockerfile", atomically: true, encoding: .utf8)
    for (name, content) in files { try content.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
}
