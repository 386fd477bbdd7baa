import CLibUV
import Glibc

/// A child process started with `uv_spawn` in a session (and so a process
/// group) of its own, its stdout and stderr kept (the last `outputLimit`
/// bytes) and handed out line by line (`onLine`), and killed with its whole
/// group when it outlives its time-out or stays silent past `stallSeconds`.
/// `done` runs on the loop thread once the child has exited and its output
/// is read.
public final class ChildProcess {
    public struct Outcome: Sendable {
        /// The exit status, when the child exited rather than being killed.
        public var exitStatus: Int64
        /// The signal that ended it, or 0.
        public var signal: Int32
        /// True when the time-out killed it (or the stall limit: `stalled`).
        public var timedOut: Bool
        /// True when it was killed for printing nothing for `stallSeconds`.
        public var stalled: Bool
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
    private var stalled = false
    /// Each whole line of output (stdout and stderr, without its newline;
    /// a line over 4 KiB comes in pieces), as it arrives.
    public var onLine: ((String) -> Void)?
    private var partialLines: [[UInt8]] = [[], []]
    private var lastOutputNanoseconds = EventLoop.monotonicNanoseconds()
    /// Only for a child with a stall limit (jobs, not quick commands).
    private let stallTimer: LoopTimer?
    private var done: ((Outcome) -> Void)?
    private let startNanoseconds = EventLoop.monotonicNanoseconds()
    public private(set) var pid: Int32 = 0

    /// Starts `argv` (argv[0] looked up in PATH) in `workingDirectory`, or
    /// throws when it cannot be started (no such program, not executable).
    public init(
        loop: EventLoop, argv: [String], workingDirectory: String?, timeoutSeconds: Double, stallSeconds: Double = 0,
        outputLimit: Int = 64 * 1024, done: @escaping (Outcome) -> Void
    ) throws {
        precondition(!argv.isEmpty, "a child needs a program")
        raw = .allocate(capacity: 1)
        raw.initialize(to: uv_process_t())
        stdout = try LoopStream(loop: loop)
        stderr = try LoopStream(loop: loop)
        timeoutTimer = try LoopTimer(loop: loop)
        drainTimer = try LoopTimer(loop: loop)
        stallTimer = stallSeconds > 0 ? try LoopTimer(loop: loop) : nil
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
        for (index, pipe) in [stdout, stderr].enumerated() {
            pipe.onRead = { [unowned self] bytes in received(bytes, on: index) }
            pipe.onEnd = { [unowned self] _ in pipeEnded(pipe) }
            try? pipe.startReading()
        }
        if timeoutSeconds > 0 {
            timeoutTimer.start(after: UInt64((timeoutSeconds * 1000).rounded(.up))) { [unowned self] in timeOut() }
        }
        if let stallTimer {
            let limit = UInt64(stallSeconds * 1e9)
            let every = UInt64(max(50, min(stallSeconds * 250, 5000)))
            stallTimer.start(after: every, repeat: every) { [unowned self] in
                if EventLoop.monotonicNanoseconds() - lastOutputNanoseconds > limit { timeOut(stalled: true) }
            }
        }
    }

    static let maxLineBytes = 4096

    private func received(_ bytes: UnsafeRawBufferPointer, on pipe: Int) {
        output.append(bytes)
        lastOutputNanoseconds = EventLoop.monotonicNanoseconds()
        guard let onLine else { return }
        for byte in bytes {
            if byte == 10 || partialLines[pipe].count == Self.maxLineBytes {
                let line = String(decoding: partialLines[pipe], as: UTF8.self)
                partialLines[pipe].removeAll(keepingCapacity: true)
                if byte != 10 { partialLines[pipe].append(byte) }
                if !line.isEmpty { onLine(line) }
            } else if byte != 13 {
                partialLines[pipe].append(byte)
            }
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

    private func timeOut(stalled: Bool = false) {
        guard exit == nil, !timedOut else { return }
        timedOut = true
        self.stalled = stalled
        stallTimer?.stop()
        Glibc.kill(-pid, SIGTERM)
        timeoutTimer.start(after: Self.terminationGraceMilliseconds) { [unowned self] in
            if exit == nil { Glibc.kill(-pid, SIGKILL) }
        }
    }

    private func exited(status: Int64, signal: Int32) {
        exit = (status, signal)
        timeoutTimer.stop()
        stallTimer?.stop()
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
            exitStatus: exit.status, signal: exit.signal, timedOut: timedOut, stalled: stalled, output: output.text,
            seconds: Double(EventLoop.monotonicNanoseconds() - startNanoseconds) / 1e9)
        closeAll()
        done(outcome)
    }

    private func closeAll() {
        stdout.close()
        stderr.close()
        timeoutTimer.close()
        drainTimer.close()
        stallTimer?.close()
        HandleLifetime.close(raw)
    }
}
