import ArgumentParser
import SidecarCore
import SidecarWire

struct ClassifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Say whether an error is permanent or transient, and what to do about it.",
        discussion: """
            Exits 0 whatever the verdict; read `permanent` (or the JSON field) to decide. With --list, \
            prints the daemon's rules in matching order (config rules, then built-in ones).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The error message as the failing tool printed it.")
    var message: String = ""

    @Option(name: .customLong("exit-code"), help: "The failed process's exit code.")
    var exitCode: Int32?

    @Option(name: .customLong("sqlite-code"), help: "A SQLite result code (primary or extended).")
    var sqliteCode: Int32?

    @Option(
        name: .customLong("image"),
        help: ArgumentHelp("The image reference the failed operation used: the remedy names it.", valueName: "ref"))
    var image: String?

    @Flag(name: .customLong("list"), help: "Print the classification rules instead of classifying.")
    var list = false

    func validate() throws {
        if list {
            if !message.isEmpty || exitCode != nil || sqliteCode != nil || image != nil {
                throw ValidationError("--list takes no message, --exit-code, --sqlite-code or --image")
            }
        } else if message.isEmpty && exitCode == nil && sqliteCode == nil {
            throw ValidationError("give an error message, --exit-code or --sqlite-code (or --list)")
        }
    }

    func run() async throws {
        try await CommandRunner.run(global) { client in
            if list { return try await printRules(client.listRules(timeout: global.callTimeout)) }
            let verdict = try await client.classify(
                FailureReport(message: message, exitCode: exitCode, sqliteCode: sqliteCode, image: image),
                timeout: global.callTimeout)
            if global.json {
                Output.json([
                    "category": verdict.category, "permanent": verdict.permanent, "remedy": verdict.remedy,
                    "rule": verdict.rule, "retry_after_seconds": verdict.retryAfterSeconds ?? 0,
                ])
            } else {
                Output.line("category:  \(verdict.category)")
                Output.line("permanent: \(verdict.permanent ? "yes, do not retry" : "no, a retry may succeed")")
                if let delay = verdict.retryAfterSeconds { Output.line("retry:     after \(Self.seconds(delay))") }
                if !verdict.remedy.isEmpty { Output.line("remedy:    \(verdict.remedy)") }
                if !verdict.rule.isEmpty { Output.line("rule:      \(verdict.rule)") }
            }
        }
    }

    private func printRules(_ rules: [ListedRule]) {
        if global.json {
            for listed in rules {
                let rule = listed.rule
                var object: [String: Any] = [
                    "id": listed.id, "match": rule.substrings, "sqlite_codes": rule.sqlitePrimaryCodes,
                    "category": rule.category, "permanent": rule.permanent, "remedy": rule.remedy,
                    "retry_after_seconds": rule.retryAfterSeconds ?? 0,
                ]
                if let code = rule.exitCode { object["exit_code"] = code }
                Output.json(object)
            }
            return
        }
        for (index, listed) in rules.enumerated() {
            let rule = listed.rule
            if index > 0 { Output.line("") }
            Output.line("\(listed.id)")
            Output.line("  match:     \(Self.conditions(rule))")
            Output.line("  category:  \(rule.category) (\(rule.permanent ? "permanent" : "transient"))")
            if let delay = rule.retryAfterSeconds { Output.line("  retry:     after \(Self.seconds(delay)) unless the message says") }
            if !rule.remedy.isEmpty { Output.line("  remedy:    \(rule.remedy)") }
        }
    }

    /// `"manifest unknown" | "name unknown"`, `exit code 125`, `SQLite code 5 | 6`.
    private static func conditions(_ rule: ClassificationRule) -> String {
        var parts: [String] = []
        if !rule.substrings.isEmpty { parts.append(rule.substrings.map { "\"\($0)\"" }.joined(separator: " | ")) }
        if let code = rule.exitCode { parts.append("exit code \(code)") }
        if !rule.sqlitePrimaryCodes.isEmpty {
            parts.append("SQLite code " + rule.sqlitePrimaryCodes.map(String.init).joined(separator: " | "))
        }
        return parts.joined(separator: ", and ")
    }

    /// "60 s", "0.5 s", "333 µs".
    static func seconds(_ value: Double) -> String {
        if value >= 1 { return value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value) }
        if value >= 0.001 { return String(format: "%g ms", (value * 1000 * 1000).rounded() / 1000) }
        return String(format: "%g µs", (value * 1e6 * 1000).rounded() / 1000)
    }
}
