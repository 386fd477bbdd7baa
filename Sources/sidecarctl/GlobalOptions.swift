import ArgumentParser
import SidecarCore

/// Options every subcommand takes, with the same names everywhere.
struct GlobalOptions: ParsableArguments {
    @Option(help: "The daemon's socket (default: $SIDECAR_SOCKET, else \(SidecarDefaults.systemSocketPath) when it exists, else \(SidecarDefaults.socketPath)).")
    var socket: String?

    @Flag(help: "Print one JSON object per answer instead of text.")
    var json = false

    @Option(help: "Give up on the call after this long, e.g. 500ms, 10s, 2m (default: no limit).")
    var timeout: String?

    func validate() throws {
        if let timeout, DurationText.parse(timeout) == nil {
            throw ValidationError("--timeout must be a duration like 500ms, 10s or 2m, got \"\(timeout)\"")
        }
    }

    /// Moves global options written before the subcommand to the end of the
    /// command's own arguments, where the leaf subcommand's option group
    /// parses them (`sidecarctl --json retry list` works like
    /// `sidecarctl retry list --json`).
    static func hoistedBehindCommand(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--json" {
                leading.append(argument)
                index += 1
            } else if argument == "--socket" || argument == "--timeout", index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if argument.hasPrefix("--socket=") || argument.hasPrefix("--timeout=") {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count else { return arguments }
        var rest = Array(arguments[index...])
        let end = rest.firstIndex(of: "--") ?? rest.endIndex
        rest.insert(contentsOf: leading, at: end)
        return rest
    }

    var callTimeout: Duration? {
        guard let timeout, let seconds = DurationText.parse(timeout) else { return nil }
        return .milliseconds(Int((seconds * 1000).rounded(.up)))
    }
}
