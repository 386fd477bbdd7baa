import Logging

/// Logs go to stderr, one line per event (systemd's journal adds the time).
enum DaemonLog {
    static func makeLogger(level: String) -> Logger {
        var logger = Logger(label: "sidecard") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = Self.level(level)
        return logger
    }

    static func level(_ name: String) -> Logger.Level {
        Logger.Level(rawValue: name) ?? .info
    }
}
