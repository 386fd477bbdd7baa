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
    /// More than the code says, when the daemon knows it (an image job's
    /// failure: its category, permanence and remedy).
    public var detail: FailureDetail?

    public init(_ code: StatusCode, _ message: String, isUnreachable: Bool = false, detail: FailureDetail? = nil) {
        self.code = code
        self.message = message
        self.isUnreachable = isUnreachable
        self.detail = detail
    }

    /// `alsoLooked`: the other paths the default-socket rule tried first.
    public static func unreachable(socket: String, reason: String, alsoLooked: [String] = []) -> SidecarError {
        let others = alsoLooked.filter { $0 != socket }
        let looked = others.isEmpty ? "" : " (looked for \(others.joined(separator: ", ")) too: none there)"
        return SidecarError(.unavailable, "cannot reach sidecard at \(socket)\(looked): \(reason)", isUnreachable: true)
    }

    public var description: String {
        message.isEmpty ? code.name : "\(code.name): \(message)"
    }
}

/// The facts a failed answer carries beside its status (ErrorDetail on the
/// wire): what kind of failure, whether asking again can help, what to do.
public struct FailureDetail: Sendable, Equatable {
    public var category: String
    public var permanent: Bool
    public var remedy: String
    /// Seconds until asking again makes sense; 0 gives no advice.
    public var retryAfterSeconds: Double

    public init(category: String, permanent: Bool, remedy: String = "", retryAfterSeconds: Double = 0) {
        self.category = category
        self.permanent = permanent
        self.remedy = remedy
        self.retryAfterSeconds = retryAfterSeconds
    }
}
