/// Command-line flags that override keys of the file, with the same names.
public struct ConfigOverrides: Sendable, Equatable {
    public var socket: String?
    public var stateDirectory: String?
    public var logLevel: String?
    public var logFormat: String?

    public init(socket: String? = nil, stateDirectory: String? = nil, logLevel: String? = nil, logFormat: String? = nil) {
        self.socket = socket
        self.stateDirectory = stateDirectory
        self.logLevel = logLevel
        self.logFormat = logFormat
    }
}
