import Dispatch
import Glibc

/// Hands the signals the wrapper gets to the engine it runs, so that
/// `kill -TERM WRAPPER` stops the container as it would stop `docker run`.
/// A signal while no engine runs (waiting out a retry's delay) ends the
/// wrapper with the shell's status for it, 128 + the signal.
final class SignalForwarder: @unchecked Sendable {
    static let forwarded: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    private let queue = DispatchQueue(label: "sidecarctl.run.signals")
    private var sources: [DispatchSourceSignal] = []
    private var childPID: pid_t?

    /// The engine running now, if any. Set and read on `queue`.
    var child: pid_t? {
        get { queue.sync { childPID } }
        set { queue.sync { childPID = newValue } }
    }

    /// `idle(signal)` runs when a signal comes while no engine runs.
    init(idle: @escaping @Sendable (Int32) -> Void) {
        for number in Self.forwarded {
            // Ignored, so the signal only reaches the source (libdispatch's
            // rule); the engine gets the default back (EngineProcess).
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [unowned self] in
                guard let child = childPID else { return idle(number) }
                // Typed at a terminal, SIGINT and SIGQUIT reach every process
                // of the terminal's foreground group, the engine too: sent on
                // again it would get them twice.
                if (number == SIGINT || number == SIGQUIT) && Self.inTerminalForeground { return }
                kill(child, number)
            }
            source.resume()
            sources.append(source)
        }
    }

    private static var inTerminalForeground: Bool {
        isatty(0) == 1 && tcgetpgrp(0) == getpgrp()
    }
}
