import ArgumentParser
import Foundation

struct RetryListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the retry keys the daemon tracks.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only keys in this state: active, failed, exhausted or succeeded.")
    var state: String = ""

    @Option(help: "Only keys starting with this.")
    var prefix: String = ""

    func run() async throws {
        try await CommandRunner.run(global) { client in
            let records = try await client.listRetries(state: state, keyPrefix: prefix, timeout: global.callTimeout)
            if global.json {
                Output.json(["retries": records.map { record in
                    var object: [String: Any] = [
                        "key": record.key, "policy": record.policy, "state": record.state.rawValue,
                        "attempts": record.attempts, "first_error": record.firstError, "last_error": record.lastError,
                        "category": record.category, "remedy": record.remedy, "in_flight": record.inFlightSince != nil,
                        "updated_unix_ms": Int64(record.updatedAt * 1000),
                    ]
                    if let owner = record.ownerUID { object["owner_uid"] = owner }
                    return object
                }])
                return
            }
            if records.isEmpty {
                Output.line("no retry keys")
                return
            }
            var table = TextTable("KEY", "STATE", "ATTEMPTS", "POLICY", "LAST ERROR")
            for record in records {
                table.add(record.key, record.state.rawValue, "\(record.attempts)", record.policy, record.lastError.isEmpty ? "-" : record.lastError)
            }
            table.print()
        }
    }
}
