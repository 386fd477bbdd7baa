/// An error that ends a call: a status code and a message for humans.
///
/// The daemon turns every domain failure into one of these in one place
/// (`StatusMapping` in SidecarDaemon), and the client surfaces the same
/// type, so a caller checks `error.code` whichever side failed.
public struct SidecarError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    /// True when the daemon could not be reached at all (no socket, refused,
    /// connection lost before an answer). The CLI exits 69 on these.
    public var isUnreachable: Bool

    public init(_ code: StatusCode, _ message: String, isUnreachable: Bool = false) {
        self.code = code
        self.message = message
        self.isUnreachable = isUnreachable
    }

    public static func unreachable(socket: String, reason: String) -> SidecarError {
        SidecarError(.unavailable, "cannot reach sidecard at \(socket): \(reason)", isUnreachable: true)
    }

    public var description: String {
        message.isEmpty ? code.name : "\(code.name): \(message)"
    }
}
