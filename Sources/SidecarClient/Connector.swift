import SidecarCore
import SidecarWire

/// Owns the client's connection: opens it on first use (retrying briefly
/// while the daemon starts), shares it between calls, and replaces it once
/// it is closed.
actor Connector {
    let socketPath: String
    /// Every path the default-socket rule looked at, for the error.
    let looked: [String]
    let options: SidecarClient.Options
    private var current: ClientConnection?
    private var opening: Task<ClientConnection, Error>?

    init(socketPath: String, looked: [String], options: SidecarClient.Options) {
        self.socketPath = socketPath
        self.looked = looked
        self.options = options
    }

    func connection() async throws -> ClientConnection {
        if let current, !current.isClosed { return current }
        if let opening { return try await opening.value }
        let task = Task { [socketPath, looked, options] in try await Self.open(socketPath: socketPath, looked: looked, options: options) }
        opening = task
        defer { opening = nil }
        let connection = try await task.value
        current = connection
        return connection
    }

    func close() {
        current?.close()
        current = nil
    }

    private static func open(socketPath: String, looked: [String], options: SidecarClient.Options) async throws -> ClientConnection {
        // The HELLO is checked like every request: a client name holding a
        // NUL fails every call before anything is sent.
        let hello = try ClientFrame.hello(protocolVersion: SidecarDefaults.protocolVersion, clientName: options.clientName)
            .frameBytesForSending()
        let deadline = ContinuousClock.now + .milliseconds(Int(options.connectRetrySeconds * 1000))
        var pause = Duration.milliseconds(10)
        while true {
            do {
                let fd = try UnixSocket.connect(path: socketPath)
                return ClientConnection(fd: fd, socketPath: socketPath, hello: hello)
            } catch .fatal(let reason) {
                throw SidecarError.unreachable(socket: socketPath, reason: reason, alsoLooked: looked)
            } catch .notYet(let reason) {
                guard ContinuousClock.now + pause < deadline else {
                    throw SidecarError.unreachable(socket: socketPath, reason: reason, alsoLooked: looked)
                }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(200))
            }
        }
    }
}
