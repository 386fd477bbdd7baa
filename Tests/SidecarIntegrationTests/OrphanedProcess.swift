import Foundation
import SidecarCore

/// A process whose parent never reaps it: `sleep` started in the background
/// by a shell that then becomes `sleep` itself (exec), which never waits.
/// Killed, it stays a zombie (state Z) until the test ends its parent: the
/// case of a container's process whose reaper is gone or slow.
final class OrphanedProcess {
    private let parent = Process()
    let identity: ProcessIdentity

    init() throws {
        parent.executableURL = URL(fileURLWithPath: "/bin/sh")
        parent.arguments = ["-c", "sleep 300 & echo $!; exec sleep 300"]
        let out = Pipe()
        parent.standardOutput = out
        try parent.run()
        var line = ""
        while !line.hasSuffix("\n") {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { break }
            line += String(decoding: byte, as: UTF8.self)
        }
        guard let pid = Int32(line.trimmingCharacters(in: .whitespacesAndNewlines)),
            let identity = ProcessIdentity.of(pid: pid)
        else { throw DaemonFailure(message: "no background pid from the shell: \"\(line)\"") }
        self.identity = identity
    }

    /// SIGKILL: the process ends and is left a zombie.
    func kill() {
        Foundation.kill(identity.pid, SIGKILL)
    }

    /// Its state letter now ("S", "Z"), or nil once its pid is gone.
    var state: Character? { ProcessStat.read(pid: identity.pid)?.state }

    deinit {
        Foundation.kill(identity.pid, SIGKILL)
        Foundation.kill(parent.processIdentifier, SIGKILL)
        parent.waitUntilExit()
    }
}
