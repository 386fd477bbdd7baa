import Foundation
import SidecarClient
import XCTest

/// A real `sidecard` process on a socket in its own temporary folder.
final class DaemonProcess {
    let directory: String
    let socketPath: String
    let stateDirectory: String
    let configPath: String
    let logPath: String
    private let process = Process()

    /// The built products (`.build/debug`), found next to the test bundle.
    static var productsDirectory: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.deletingLastPathComponent()
        if FileManager.default.fileExists(atPath: bundle.appendingPathComponent("sidecard").path) { return bundle.path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/debug").standardizedFileURL.path
    }

    static var sidecardPath: String { productsDirectory + "/sidecard" }
    static var sidecarctlPath: String { productsDirectory + "/sidecarctl" }

    /// The config every test daemon gets unless it passes its own: the
    /// Debug service on, so tests have a slow call to work with.
    static let baseConfig = "debug_methods = true\n"

    /// Starts the daemon and waits until it answers on its socket.
    /// `asNobody`: run as uid and gid 65534 with no other group (through
    /// setpriv), in a folder anyone may write. `socketPath`: another socket
    /// than the one in its folder. `commandPrefix`: a program that execs
    /// the daemon, e.g. `ip netns exec NAME` (so the pid stays the daemon's).
    init(
        config: String = DaemonProcess.baseConfig, arguments: [String] = [], directory: String? = nil, waitUntilReady: Bool = true,
        asNobody: Bool = false, socketPath: String? = nil, environment: [String: String] = [:], commandPrefix: [String] = []
    ) throws {
        self.directory = directory ?? Self.makeTemporaryDirectory()
        self.socketPath = socketPath ?? self.directory + "/sidecar.sock"
        stateDirectory = self.directory + "/state"
        configPath = self.directory + "/sidecar.toml"
        logPath = self.directory + "/sidecard-\(UUID().uuidString.prefix(8)).log"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let daemonArguments = ["--config", configPath, "--socket", self.socketPath, "--state-dir", stateDirectory] + arguments
        var prefix = commandPrefix
        if asNobody {
            chmod(self.directory, 0o777)
            chmod(logPath, 0o666)
            prefix += ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        let argv = prefix + [Self.sidecardPath] + daemonArguments
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardError = log
        process.standardOutput = log
        try process.run()
        if waitUntilReady { try self.waitUntilReady() }
    }

    static func makeTemporaryDirectory() -> String {
        // Short, because a Unix socket path holds 107 bytes at most.
        let path = "/tmp/sc-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func client() -> SidecarClient {
        SidecarClient(socketPath: socketPath, options: .init(connectRetrySeconds: 3))
    }

    /// Polls until the daemon answers a HELLO (a connect alone is answered
    /// by the kernel's backlog before the loop runs); fails fast if the
    /// daemon exited.
    func waitUntilReady(timeout: TimeInterval = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !process.isRunning {
                throw DaemonFailure(message: "sidecard exited with \(process.terminationStatus) before it was ready:\n\(log)")
            }
            if let raw = try? RawConnection.greeted(socketPath: socketPath) {
                raw.close()
                return
            }
            usleep(10_000)
        }
        throw DaemonFailure(message: "sidecard did not answer on \(socketPath) within \(timeout) s:\n\(log)")
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits for the process to end; nil if it did not within `timeout`.
    func waitForExit(timeout: TimeInterval = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Polls `condition` until it holds; false if it never did within `timeout`.
    static func eventually(timeout: TimeInterval = 5, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }

    func stop() {
        if process.isRunning {
            signal(SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct DaemonFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs a built executable and gathers its exit code and output.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a full pipe cannot stall the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    static func sidecarctl(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try run(DaemonProcess.sidecarctlPath, arguments, environment: environment)
    }
}
