import Foundation
import SidecarClient
import SidecarTestSupport

/// A real `sidecard` run inside a network namespace (`ip netns exec NAME
/// sidecard ...`), on a socket in its own temporary folder, as
/// DaemonProcess does in the root namespace (which cannot prefix its
/// command). ip execs the daemon, so `pid` is the daemon's; it is killed by
/// that PID. `directory`: a given folder instead of a new temporary one;
/// `environment` is added to the test's own, as DaemonProcess's (`ip netns
/// exec` hands it on).
final class NamespacedDaemon {
    let directory: String
    let socketPath: String
    let stateDirectory: String
    let configPath: String
    let logPath: String
    private let process = Process()

    init(config: String, namespace: NetworkNamespace, directory: String? = nil, environment: [String: String] = [:]) throws {
        self.directory = directory ?? DaemonProcess.makeTemporaryDirectory()
        socketPath = self.directory + "/sidecar.sock"
        stateDirectory = self.directory + "/state"
        configPath = self.directory + "/sidecar.toml"
        logPath = self.directory + "/sidecard-\(UUID().uuidString.prefix(8)).log"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let argv = namespace.command([
            DaemonProcess.sidecardPath, "--config", configPath, "--socket", socketPath, "--state-dir", stateDirectory,
        ])
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardError = log
        process.standardOutput = log
        try process.run()
        try waitUntilReady()
        // ip exec'd the daemon: the PID to kill is its own.
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
        guard URL(fileURLWithPath: executable).lastPathComponent == "sidecard" else {
            throw DaemonFailure(message: "PID \(pid) runs \(executable), not sidecard")
        }
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func client() -> SidecarClient {
        SidecarClient(socketPath: socketPath, options: .init(connectRetrySeconds: 3))
    }

    func waitUntilReady(timeout: TimeInterval = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !process.isRunning {
                throw DaemonFailure(message: "sidecard (in a namespace) exited with \(process.terminationStatus) before it was ready:\n\(log)")
            }
            if let raw = try? RawConnection.greeted(socketPath: socketPath) {
                raw.close()
                return
            }
            usleep(10_000)
        }
        throw DaemonFailure(message: "sidecard (in a namespace) did not answer on \(socketPath) within \(timeout) s:\n\(log)")
    }

    func stop() {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
