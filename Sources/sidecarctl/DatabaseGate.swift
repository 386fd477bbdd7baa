import SidecarClient
import SidecarCore

/// The databases a container is about to open, checked host-side before it
/// starts (seed 001): one that is really damaged stops the start, since a
/// respawn will not mend it; any other verdict lets it go on, with a note.
enum DatabaseGate {
    struct Findings {
        /// "CORRUPT: PATH: first message" and the remedy, per damaged file.
        var damaged: [String] = []
        /// What could not be judged (missing, busy, unreadable, outside the roots).
        var notes: [String] = []
    }

    static func check(_ paths: [String], with client: SidecarClient, timeout: Duration?) async throws -> Findings {
        var findings = Findings()
        for path in paths {
            let result: DbCheckResult
            do {
                result = try await client.checkDb(path: path, timeout: timeout).result
            } catch let error as SidecarError where error.detail?.category == DbVerdict.outsideRoots.rawValue {
                findings.notes.append("\(path) not checked: \(error.message)")
                continue
            }
            let finding = result.messages.first ?? result.verdict.rawValue
            switch result.verdict {
            case .ok:
                break
            case .corrupt, .notADatabase:
                findings.damaged.append(
                    "\(result.verdict.rawValue.uppercased()): \(path): \(finding)\nremedy: \(DbRemedy.restore(path, finding: finding))")
            case .missing, .busy, .unreadable, .outsideRoots:
                findings.notes.append("\(path) not checked: \(result.verdict.rawValue): \(finding)")
            }
        }
        return findings
    }
}
