import Foundation
import Glibc
import Logging

/// Logs go to stderr, one line per event, as text, logfmt or JSON. Under
/// journald (JOURNAL_STREAM set) lines carry no timestamp of their own:
/// the journal stamps each one.
enum DaemonLog {
    static func makeLogger(level: String, format: String) -> Logger {
        let stamped = ProcessInfo.processInfo.environment["JOURNAL_STREAM"]?.isEmpty ?? true
        let lineFormat = LineFormat(rawValue: format) ?? .text
        var logger = Logger(label: "sidecard") { _ in LineLogHandler(format: lineFormat, stamped: stamped) }
        logger.logLevel = Self.level(level)
        return logger
    }

    static func level(_ name: String) -> Logger.Level {
        Logger.Level(rawValue: name) ?? .info
    }

    enum LineFormat: String {
        case text, logfmt, json
    }
}

/// One line per event on fd 2, written with one write(2) so lines of
/// concurrent writers do not interleave.
struct LineLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    let format: DaemonLog.LineFormat
    let stamped: Bool

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let pairs = fields.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        let time = stamped ? Self.timestamp() : nil
        let line: String
        switch format {
        case .text:
            let context = pairs.map { "\($0)=\($1)" }.joined(separator: " ")
            line = [time, event.level.rawValue, context.isEmpty ? nil : context, "\(event.message)"].compactMap { $0 }.joined(separator: " ")
        case .logfmt:
            var parts: [String] = []
            if let time { parts.append("time=\(time)") }
            parts.append("level=\(event.level.rawValue)")
            parts.append("msg=\(Self.logfmtValue("\(event.message)"))")
            for (key, value) in pairs { parts.append("\(key)=\(Self.logfmtValue(value))") }
            line = parts.joined(separator: " ")
        case .json:
            var object: [String] = []
            if let time { object.append("\"time\":\(Self.jsonString(time))") }
            object.append("\"level\":\(Self.jsonString(event.level.rawValue))")
            object.append("\"msg\":\(Self.jsonString("\(event.message)"))")
            for (key, value) in pairs { object.append("\(Self.jsonString(key)):\(Self.jsonString(value))") }
            line = "{" + object.joined(separator: ",") + "}"
        }
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1_000_000))
    }

    /// Bare when it has no space, quote, equals sign or control byte; else quoted.
    static func logfmtValue(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7f }
        return plain ? value : jsonString(value)
    }

    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
