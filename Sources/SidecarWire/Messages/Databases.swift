import SidecarCore
import SidecarProtoC

extension DbVerdict {
    init(wire: Sidecar__V1__DbVerdict) {
        switch wire {
        case SIDECAR__V1__DB_VERDICT__OK: self = .ok
        case SIDECAR__V1__DB_VERDICT__CORRUPT: self = .corrupt
        case SIDECAR__V1__DB_VERDICT__NOT_A_DATABASE: self = .notADatabase
        case SIDECAR__V1__DB_VERDICT__BUSY: self = .busy
        case SIDECAR__V1__DB_VERDICT__OUTSIDE_ROOTS: self = .outsideRoots
        case SIDECAR__V1__DB_VERDICT__UNREADABLE: self = .unreadable
        default: self = .missing
        }
    }

    var wire: Sidecar__V1__DbVerdict {
        switch self {
        case .ok: SIDECAR__V1__DB_VERDICT__OK
        case .corrupt: SIDECAR__V1__DB_VERDICT__CORRUPT
        case .notADatabase: SIDECAR__V1__DB_VERDICT__NOT_A_DATABASE
        case .missing: SIDECAR__V1__DB_VERDICT__MISSING
        case .busy: SIDECAR__V1__DB_VERDICT__BUSY
        case .outsideRoots: SIDECAR__V1__DB_VERDICT__OUTSIDE_ROOTS
        case .unreadable: SIDECAR__V1__DB_VERDICT__UNREADABLE
        }
    }
}

public struct CheckDbRequest: Equatable, Sendable {
    public var path: String
    public var mode: DbCheckMode
    /// 0: the daemon's default.
    public var maxErrors: UInt32

    public init(path: String, mode: DbCheckMode = .quick, maxErrors: UInt32 = 0) {
        self.path = path
        self.mode = mode
        self.maxErrors = maxErrors
    }
}

extension CheckDbRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__CheckDbRequest>) { sidecar__v1__check_db_request__init(c) }

    package init(reading c: Sidecar__V1__CheckDbRequest) {
        self.init(
            path: ProtobufCField.string(c.path),
            mode: c.mode == SIDECAR__V1__CHECK_DB_REQUEST__MODE__FULL ? .full : .quick, maxErrors: c.max_errors)
    }

    package func fill(_ c: inout Sidecar__V1__CheckDbRequest, arena: PackArena) {
        c.path = arena.string(path)
        c.mode = mode == .full ? SIDECAR__V1__CHECK_DB_REQUEST__MODE__FULL : SIDECAR__V1__CHECK_DB_REQUEST__MODE__QUICK
        c.max_errors = maxErrors
    }
}

/// `CheckDbResponse` is the domain's answer, coded at this edge.
public typealias CheckDbResponse = DbCheckAnswer

extension DbCheckAnswer: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__CheckDbResponse>) { sidecar__v1__check_db_response__init(c) }

    package init(reading c: Sidecar__V1__CheckDbResponse) {
        self.init(
            result: DbCheckResult(
                verdict: DbVerdict(wire: c.verdict), messages: ProtobufCField.strings(c.messages, count: c.n_messages),
                checkSeconds: c.check_seconds),
            shared: c.shared != 0, reused: c.reused != 0, resolvedPath: ProtobufCField.string(c.resolved_path))
    }

    package func fill(_ c: inout Sidecar__V1__CheckDbResponse, arena: PackArena) {
        c.verdict = result.verdict.wire
        c.n_messages = result.messages.count
        c.messages = arena.strings(result.messages)
        c.check_seconds = result.checkSeconds
        c.shared = shared ? 1 : 0
        c.reused = reused ? 1 : 0
        c.resolved_path = arena.string(resolvedPath)
    }
}

public struct ReportDbErrorRequest: Equatable, Sendable {
    public var path: String
    public var clientID: String
    public var message: String
    public var sqliteCode: Int32?
    public var ok: Bool

    public init(path: String, clientID: String, message: String = "", sqliteCode: Int32? = nil, ok: Bool = false) {
        self.path = path
        self.clientID = clientID
        self.message = message
        self.sqliteCode = sqliteCode
        self.ok = ok
    }
}

extension ReportDbErrorRequest: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ReportDbErrorRequest>) {
        sidecar__v1__report_db_error_request__init(c)
    }

    package init(reading c: Sidecar__V1__ReportDbErrorRequest) {
        self.init(
            path: ProtobufCField.string(c.path), clientID: ProtobufCField.string(c.client_id),
            message: ProtobufCField.string(c.message),
            sqliteCode: c.optional_sqlite_code_case == SIDECAR__V1__REPORT_DB_ERROR_REQUEST__OPTIONAL_SQLITE_CODE_SQLITE_CODE
                ? c.sqlite_code : nil,
            ok: c.ok != 0)
    }

    package func fill(_ c: inout Sidecar__V1__ReportDbErrorRequest, arena: PackArena) {
        c.path = arena.string(path)
        c.client_id = arena.string(clientID)
        c.message = arena.string(message)
        if let sqliteCode {
            c.optional_sqlite_code_case = SIDECAR__V1__REPORT_DB_ERROR_REQUEST__OPTIONAL_SQLITE_CODE_SQLITE_CODE
            c.sqlite_code = sqliteCode
        }
        c.ok = ok ? 1 : 0
    }
}

/// `ReportDbErrorResponse` is the domain's advice, coded at this edge.
public typealias ReportDbErrorResponse = DbErrorAdvice

extension DbErrorAdvice: ProtobufCConvertible {
    package static func initialize(_ c: UnsafeMutablePointer<Sidecar__V1__ReportDbErrorResponse>) {
        sidecar__v1__report_db_error_response__init(c)
    }

    package init(reading c: Sidecar__V1__ReportDbErrorResponse) {
        let action: Action
        switch c.action {
        case SIDECAR__V1__REPORT_DB_ERROR_RESPONSE__ACTION__EXIT_TEMPFAIL: action = .exitTempfail
        case SIDECAR__V1__REPORT_DB_ERROR_RESPONSE__ACTION__CORRUPT: action = .corrupt
        default: action = .continue
        }
        self.init(
            action: action, streak: c.streak, threshold: c.threshold, remedy: ProtobufCField.string(c.remedy),
            verdict: c.verdict == SIDECAR__V1__DB_VERDICT__DB_VERDICT_UNSPECIFIED ? nil : DbVerdict(wire: c.verdict))
    }

    package func fill(_ c: inout Sidecar__V1__ReportDbErrorResponse, arena: PackArena) {
        switch action {
        case .continue: c.action = SIDECAR__V1__REPORT_DB_ERROR_RESPONSE__ACTION__CONTINUE
        case .exitTempfail: c.action = SIDECAR__V1__REPORT_DB_ERROR_RESPONSE__ACTION__EXIT_TEMPFAIL
        case .corrupt: c.action = SIDECAR__V1__REPORT_DB_ERROR_RESPONSE__ACTION__CORRUPT
        }
        c.streak = streak
        c.threshold = threshold
        c.remedy = arena.string(remedy)
        c.verdict = verdict?.wire ?? SIDECAR__V1__DB_VERDICT__DB_VERDICT_UNSPECIFIED
    }
}
