import CLibUV
import Glibc

/// A child process started with `uv_spawn` in a session (and so a process
/// group) of its own, its stdout and stderr kept (the last `outputLimit`
/// bytes), and killed with its whole group when it outlives its time-out.
/// `done` runs on the loop thread once the child has exited and its output
/// is read.
public final class ChildProcess {
    public struct Outcome: Sendable {
        /// The exit status, when the child exited rather than being killed.
        public var exitStatus: Int64
        /// The signal that ended it, or 0.
        public var signal: Int32
        /// True when the time-out killed it.
        public var timedOut: Bool
        public var output: String
        public var seconds: Double

        public var succeeded: Bool { !timedOut && signal == 0 && exitStatus == 0 }
    }

    /// How long a child gets between SIGTERM and SIGKILL at its time-out.
    public static let terminationGraceMilliseconds: UInt64 = 2000
    /// How long output is still read after the child exited, for descendants
    /// that escaped its group and hold the pipes open.
    static let outputDrainMilliseconds: UInt64 = 1000

    private let raw: UnsafeMutablePointer<uv_process_t>
    private let stdout: LoopStream
    private let stderr: LoopStream
    private let timeoutTimer: LoopTimer
    private let drainTimer: LoopTimer
    private var output: OutputTail
    private var openPipes = 2
    private var exit: (status: Int64, signal: Int32)?
    private var timedOut = false
    private var done: ((Outcome) -> Void)?
    private let startNanoseconds = EventLoop.monotonicNanoseconds()
    public private(set) var pid: Int32 = 0

    /// Starts `argv` (argv[0] looked up in PATH) in `workingDirectory`, or
    /// throws when it cannot be started (no such program, not executable).
    public init(
        loop: EventLoop, argv: [String], workingDirectory: String?, timeoutSeconds: Double, outputLimit: Int = 64 * 1024,
        done: @escaping (Outcome) -> Void
    ) throws {
        precondition(!argv.isEmpty, "a child needs a program")
        raw = .allocate(capacity: 1)
        raw.initialize(to: uv_process_t())
        stdout = try LoopStream(loop: loop)
        stderr = try LoopStream(loop: loop)
        timeoutTimer = try LoopTimer(loop: loop)
        drainTimer = try LoopTimer(loop: loop)
        output = OutputTail(limit: outputLimit)
        self.done = done
        do {
            try spawn(loop: loop, argv: argv, workingDirectory: workingDirectory)
        } catch {
            // A failed spawn still needs its handle closed (NOTES-interop).
            closeAll()
            self.done = nil
            throw error
        }
        // Attached only now: a handle that failed to spawn is closed with no
        // owner to release.
        HandleLifetime.attach(self, to: raw)
        pid = raw.pointee.pid
        for pipe in [stdout, stderr] {
            pipe.onRead = { [unowned self] bytes in output.append(bytes) }
            pipe.onEnd = { [unowned self] _ in pipeEnded(pipe) }
            try? pipe.startReading()
        }
        if timeoutSeconds > 0 {
            timeoutTimer.start(after: UInt64((timeoutSeconds * 1000).rounded(.up))) { [unowned self] in timeOut() }
        }
    }

    private func spawn(loop: EventLoop, argv: [String], workingDirectory: String?) throws {
        var arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        let directory = workingDirectory.flatMap { $0.isEmpty ? nil : strdup($0) }
        defer { free(directory) }
        var stdio = [uv_stdio_container_t](repeating: uv_stdio_container_t(), count: 3)
        stdio[0].flags = UV_IGNORE
        for (index, pipe) in [(1, stdout), (2, stderr)] {
            stdio[index].flags = uv_stdio_flags(UV_CREATE_PIPE.rawValue | UV_WRITABLE_PIPE.rawValue)
            stdio[index].data.stream = UnsafeMutablePointer(OpaquePointer(pipe.raw))
        }
        let result = arguments.withUnsafeMutableBufferPointer { args in
            stdio.withUnsafeMutableBufferPointer { containers in
                var options = uv_process_options_t()
                options.exit_cb = { handle, status, signal in
                    HandleLifetime.owner(ChildProcess.self, of: UnsafeMutableRawPointer(handle)).exited(status: status, signal: signal)
                }
                options.file = UnsafePointer(args[0])
                options.args = args.baseAddress
                options.cwd = UnsafePointer(directory)
                // Its own session: the child leads a process group that a
                // time-out kills whole, children included.
                options.flags = UV_PROCESS_DETACHED.rawValue
                options.stdio_count = 3
                options.stdio = containers.baseAddress
                return uv_spawn(loop.raw, raw, &options)
            }
        }
        try uvCheck(result, "cannot run \(argv[0])\(workingDirectory.map { " in \($0)" } ?? "")")
    }

    /// Kills the child's whole group now (a shutdown); `done` still runs.
    public func kill() {
        guard exit == nil, pid > 0 else { return }
        Glibc.kill(-pid, SIGKILL)
    }

    private func timeOut() {
        guard exit == nil else { return }
        timedOut = true
        Glibc.kill(-pid, SIGTERM)
        timeoutTimer.start(after: Self.terminationGraceMilliseconds) { [unowned self] in
            if exit == nil { Glibc.kill(-pid, SIGKILL) }
        }
    }

    private func exited(status: Int64, signal: Int32) {
        exit = (status, signal)
        timeoutTimer.stop()
        // Whatever the child left running in its group goes with it.
        Glibc.kill(-pid, SIGKILL)
        if openPipes == 0 {
            complete()
        } else {
            drainTimer.start(after: Self.outputDrainMilliseconds) { [unowned self] in complete() }
        }
    }

    private func pipeEnded(_ pipe: LoopStream) {
        pipe.close()
        openPipes -= 1
        if openPipes == 0, exit != nil { complete() }
    }

    private func complete() {
        guard let exit, let done else { return }
        self.done = nil
        let outcome = Outcome(
            exitStatus: exit.status, signal: exit.signal, timedOut: timedOut, output: output.text,
            seconds: Double(EventLoop.monotonicNanoseconds() - startNanoseconds) / 1e9)
        closeAll()
        done(outcome)
    }

    private func closeAll() {
        stdout.close()
        stderr.close()
        timeoutTimer.close()
        drainTimer.close()
        HandleLifetime.close(raw)
    }
}
