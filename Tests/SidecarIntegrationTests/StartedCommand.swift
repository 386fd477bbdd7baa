import Foundation

/// A built executable started and left running, for tests that act on it
/// while it runs (signals, leases held meanwhile); `finish()` waits for it.
final class StartedCommand: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var output: [Data] = [Data(), Data()]
    private var open = 2

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        for (index, pipe) in [Pipe(), Pipe()].enumerated() {
            if index == 0 { process.standardOutput = pipe } else { process.standardError = pipe }
            pipe.fileHandleForReading.readabilityHandler = { [self] handle in
                let data = handle.availableData
                lock.withLock {
                    if data.isEmpty {
                        handle.readabilityHandler = nil
                        open -= 1
                    } else {
                        output[index].append(data)
                    }
                }
            }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit and for its output; a command still running after
    /// `seconds` is killed (SIGKILL), so a test waiting on a stuck command
    /// fails instead of hanging. Output a descendant keeps open is read for
    /// 2 s more at most.
    /// `onTimeout` runs first then, to end what the command waits on.
    func finish(within seconds: Double = 120, onTimeout: () -> Void = {}) async -> CommandResult {
        let deadline = Date().addingTimeInterval(seconds)
        var timedOut = false
        while process.isRunning {
            if Date() >= deadline && !timedOut {
                timedOut = true
                onTimeout()
                kill(process.processIdentifier, SIGKILL)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let drained = Date().addingTimeInterval(2)
        while lock.withLock({ open > 0 }) && Date() < drained { try? await Task.sleep(for: .milliseconds(10)) }
        return lock.withLock {
            CommandResult(
                status: process.terminationStatus, stdout: String(decoding: output[0], as: UTF8.self),
                stderr: String(decoding: output[1], as: UTF8.self))
        }
    }
}
