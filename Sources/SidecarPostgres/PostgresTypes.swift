/// One SQL statement and its parameters, sent as text (`$1`, `$2`, ...);
/// nil is SQL NULL.
public struct PostgresStatement: Sendable {
    public var sql: String
    public var parameters: [String?]

    public init(_ sql: String, _ parameters: [String?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// The rows one statement returned, every value as PostgreSQL's text form.
public struct PostgresRows: Sendable, Equatable {
    public var rows: [[String?]]

    public init(rows: [[String?]]) {
        self.rows = rows
    }
}

/// Why a batch of statements has no answer.
public enum PostgresFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection, a lost one, or no answer within the batch's deadline:
    /// whether the batch took effect is unknown unless it never left.
    case unavailable(String)
    /// The server refused a statement (the whole batch is rolled back when
    /// it is one transaction).
    case statement(sqlState: String, message: String)

    public var description: String {
        switch self {
        case .unavailable(let reason): reason
        case .statement(let sqlState, let message): "\(message) (SQLSTATE \(sqlState))"
        }
    }
}

/// What the connection is doing, as its owner is told.
public enum PostgresLinkState: Sendable, Equatable {
    case connecting
    /// Connected, in pipeline mode, and the owner's session set-up ran.
    case ready
    /// Not connected; the next attempt is scheduled. The reason names the
    /// last failure.
    case down(String)
}
