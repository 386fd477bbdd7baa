/// One HTTP/1.1 request to the server behind the client's Unix socket.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path with its query, e.g. "/v1.41/images/json?all=1".
    public var path: String
    public var headers: [String]
    public var body: [UInt8]
    /// The whole exchange, connect to last byte; 0 for none (an event stream).
    public var timeoutSeconds: Double

    public init(method: String = "GET", path: String, headers: [String] = [], body: [UInt8] = [], timeoutSeconds: Double) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Empty when the caller took the body chunk by chunk.
    public var body: [UInt8]
}

public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Nothing listens on the socket, or it is not there.
        case cannotConnect
        case timedOut
        /// The caller ended the transfer.
        case cancelled
        /// The connection broke or the server answered garbage.
        case transfer
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
