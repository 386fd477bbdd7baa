import ArgumentParser
import Foundation
import Glibc
import SidecarClient

/// `--progress`: what `ensure-image` shows on stderr while its job runs.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    /// A live line on a terminal, plain lines otherwise.
    case auto
    /// One line per event.
    case plain
    case none
}

/// Shows the `image.job.*` events of one image while a call waits for it:
/// on a terminal one status line rewritten in place, else a line each.
final class JobProgress: @unchecked Sendable {
    private let image: String
    private let live: Bool
    private let lock = NSLock()
    private var shown = false

    init(image: String, mode: ProgressMode) {
        self.image = image
        live = mode == .auto && isatty(2) == 1
    }

    /// Follows the events until the task is cancelled; a failure of the
    /// watch itself only ends the display.
    func follow(_ client: SidecarClient) -> Task<Void, Never> {
        Task {
            do {
                // The answer itself says how the job ended.
                let topics = ["image.job.started", "image.job.queued", "image.job.progress"]
                for try await event in client.watch(topics: topics) where concerns(event) {
                    show(Self.text(of: event))
                }
            } catch {}
        }
    }

    /// Clears the live line before the answer is printed.
    func finish() {
        lock.withLock {
            if live && shown { Self.write("\r\u{1B}[K") }
            shown = false
        }
    }

    private func concerns(_ event: SidecarEvent) -> Bool {
        event.subject == image || event.attributes["ref"] == image
    }

    private func show(_ text: String) {
        lock.withLock {
            if live {
                Self.write("\r\u{1B}[K" + String(text.prefix(Self.terminalColumns() - 1)))
                shown = true
            } else {
                Self.write("sidecarctl: " + text + "\n")
            }
        }
    }

    /// "building agent-base: step 3/7 (12 s), 41 callers waiting".
    static func text(of event: SidecarEvent) -> String {
        let kind = event.attributes["kind"] ?? "job"
        let verb = kind == "build" ? "building" : kind == "pull" ? "pulling" : kind
        let waiters = Int(event.attributes["waiters"] ?? "") ?? 0
        let waiting = waiters > 1 ? ", \(waiters) callers waiting" : ""
        switch event.topic {
        case "image.job.progress":
            let elapsed = Double(event.attributes["elapsed_seconds"] ?? "").map { " (\(Int($0)) s)" } ?? ""
            return "\(verb) \(event.subject): \(event.attributes["line"] ?? "")\(elapsed)\(waiting)"
        case "image.job.queued":
            return "\(event.subject): \(kind) queued, \(event.attributes["running"] ?? "?") running, \(event.attributes["ahead"] ?? "?") ahead\(waiting)"
        case "image.job.started":
            return "\(verb) \(event.subject)\(waiting)"
        default:
            return event.message
        }
    }

    private static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 10 else { return 80 }
        return Int(size.ws_col)
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
