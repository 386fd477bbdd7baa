import ArgumentParser
import SidecarCore

struct ReportDbErrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report-db-error",
        abstract: "Report a SQLite error (or a success) a client saw, and learn what to do.",
        discussion: """
            Exit codes: 0 continue; 75 exit and be respawned with a fresh mount (the file is fine on \
            the host, the view is torn); 65 the file is really corrupt, restore it.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Absolute path of the database.")
    var path: String

    @Option(help: "Who saw the error: one runner or container.")
    var client: String

    @Option(help: "The error message SQLite gave.")
    var error: String?

    @Option(name: .customLong("sqlite-code"), help: "The SQLite result code, instead of or with --error.")
    var sqliteCode: Int32?

    @Flag(help: "Report a success: resets the streak.")
    var ok = false

    func validate() throws {
        if ok == ((error ?? "").isEmpty == false || sqliteCode != nil) {
            throw ValidationError("give --error MSG (and/or --sqlite-code N), or --ok")
        }
    }

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let answer = try await client.reportDbError(
                path: path, clientID: self.client, message: error ?? "", sqliteCode: sqliteCode, ok: ok,
                timeout: global.callTimeout)
            if global.json {
                var object: [String: Any] = [
                    "action": answer.action.rawValue, "streak": answer.streak, "threshold": answer.threshold,
                    "remedy": answer.remedy,
                ]
                if let verdict = answer.verdict { object["verdict"] = verdict.rawValue }
                Output.json(object)
            } else {
                Output.line("\(answer.action.rawValue) (streak \(answer.streak) of \(answer.threshold))")
                if !answer.remedy.isEmpty { Output.line(answer.remedy) }
            }
            switch answer.action {
            case .continue: return
            case .exitTempfail: throw ExitCode(SidecarExitCode.tempFail.rawValue)
            case .corrupt: throw ExitCode(SidecarExitCode.dataError.rawValue)
            }
        }
    }
}
