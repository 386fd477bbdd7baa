import ArgumentParser
import SidecarClient
import SidecarCore

struct CheckDbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-db",
        abstract: "Check a SQLite file host-side, read-only.",
        discussion: """
            Exit codes: 0 healthy; 65 corrupt or not a database; 1 missing or outside the daemon's \
            database roots; 75 busy (another connection holds a lock), try again.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Absolute path of the database, under one of the daemon's databases.roots.")
    var path: String

    @Flag(help: "PRAGMA integrity_check instead of quick_check (also checks indexes).")
    var full = false

    @Option(name: .customLong("max-errors"), help: "Report at most this many problems (default: the daemon's, \(SidecarDefaults.dbCheckMaxErrors)).")
    var maxErrors: UInt32 = 0

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let answer: CheckDbResponse
            do {
                answer = try await client.checkDb(path: path, mode: full ? .full : .quick, maxErrors: maxErrors, timeout: global.callTimeout)
            } catch let error as SidecarError where error.detail?.category == DbVerdict.outsideRoots.rawValue {
                if global.json {
                    Output.json(["verdict": DbVerdict.outsideRoots.rawValue, "messages": [error.message], "path": path])
                } else {
                    Output.line("outside_roots: \(error.message)")
                }
                throw ExitCode(SidecarExitCode.no.rawValue)
            }
            let result = answer.result
            if global.json {
                Output.json([
                    "verdict": result.verdict.rawValue, "messages": result.messages, "check_seconds": result.checkSeconds,
                    "shared": answer.shared, "reused": answer.reused, "path": answer.resolvedPath,
                ])
            } else {
                let how = answer.reused ? " (unchanged since the last check)" : answer.shared ? " (joined a check in progress)" : ""
                Output.line("\(result.verdict.rawValue): \(answer.resolvedPath)\(how)")
                for message in result.messages { Output.line("  \(message)") }
            }
            switch result.verdict {
            case .ok: return
            case .corrupt, .notADatabase: throw ExitCode(SidecarExitCode.dataError.rawValue)
            case .busy: throw ExitCode(SidecarExitCode.tempFail.rawValue)
            case .missing, .outsideRoots: throw ExitCode(SidecarExitCode.no.rawValue)
            case .unreadable: throw ExitCode(SidecarExitCode.noPermission.rawValue)
            }
        }
    }
}
