import Foundation
import SidecarCore
import TOMLKit

/// Turns a TOML file (or nothing) and the command-line flags into a
/// validated `DaemonConfig`, or a `ConfigError` naming file, key and reason.
public enum ConfigLoader {
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    public static let logFormats = ["text", "logfmt", "json"]

    /// `path` nil: the embedded defaults alone.
    public static func load(path: String?, overrides: ConfigOverrides = ConfigOverrides()) throws -> DaemonConfig {
        var config: DaemonConfig
        if let path {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigError(file: path, key: "", reason: "cannot read the file: \(readFailure(path))")
            }
            config = try parse(text, file: path)
        } else {
            config = DaemonConfig()
        }
        try apply(overrides, to: &config)
        return config
    }

    public static func parse(_ text: String, file: String) throws -> DaemonConfig {
        try refuseNULEscapes(text, file: file)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(
                file: file, key: "",
                reason: "line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        var config = DaemonConfig()
        let root = TOMLSection(table: table, path: "", file: file)
        try ConfigSchema.read(root, into: &config)
        try ConfigValidation.validate(config, file: file)
        return config
    }

    /// The TOML reader cuts a string at an escaped NUL ("info\u0000x" reads
    /// as "info"), so it is refused before parsing: config text reaches the
    /// wire, whose strings may not hold NUL either. (An escaped backslash
    /// before the "u" makes no NUL; a comment that names one is refused
    /// too, which costs nothing real.)
    private static func refuseNULEscapes(_ text: String, file: String) throws {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var backslashes = 0
            var rest = Substring(line)
            while let first = rest.first {
                rest = rest.dropFirst()
                if first == "\\" { backslashes += 1; continue }
                if backslashes % 2 == 1 && (first == "u" && rest.hasPrefix("0000") || first == "U" && rest.hasPrefix("00000000")) {
                    throw ConfigError(
                        file: file, key: "", reason: "line \(index + 1): a string holds an escaped NUL (\\u0000), which no string here may hold")
                }
                backslashes = 0
            }
        }
    }

    static func apply(_ overrides: ConfigOverrides, to config: inout DaemonConfig) throws {
        if let socket = overrides.socket { config.socket = socket }
        if let stateDirectory = overrides.stateDirectory { config.stateDirectory = stateDirectory }
        if let logLevel = overrides.logLevel { config.logLevel = try flag("--log-level", logLevel, oneOf: logLevels) }
        if let logFormat = overrides.logFormat { config.logFormat = try flag("--log-format", logFormat, oneOf: logFormats) }
        try ConfigValidation.validatePaths(config, file: "<flags>")
    }

    private static func flag(_ name: String, _ value: String, oneOf allowed: [String]) throws -> String {
        guard allowed.contains(value) else {
            throw ConfigError(file: "<flags>", key: name, reason: "must be one of \(allowed.joined(separator: ", ")), got \"\(value)\"")
        }
        return value
    }

    private static func readFailure(_ path: String) -> String {
        var status = stat()
        if stat(path, &status) != 0 { return String(cString: strerror(errno)) }
        if status.st_mode & S_IFMT == S_IFDIR { return "it is a directory" }
        return "permission denied or not UTF-8 text"
    }
}
