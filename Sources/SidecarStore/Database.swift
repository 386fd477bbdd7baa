import CSQLite
import CSQLiteShims

/// One SQLite connection. Used from one thread at a time; the daemon opens
/// the state database at start, before the loop runs, and later issues move
/// their writes to the thread pool.
public final class Database {
    private var handle: OpaquePointer?
    public let path: String

    public enum Mode: Sendable {
        /// Creates the file if missing; WAL journal, full sync on commit.
        case readWriteCreate
        /// Never creates or changes anything.
        case readOnly
    }

    /// When a commit waits for the disk (PRAGMA synchronous, with WAL).
    public enum Synchronous: String, Sendable {
        /// fsync on every commit: a commit survives a power cut.
        case full
        /// fsync at checkpoints only: a commit survives the process being
        /// killed (it is in the WAL file), a power cut may drop the last ones.
        case normal
    }

    public init(
        path: String, mode: Mode = .readWriteCreate, synchronous: Synchronous = .full, busyTimeoutMilliseconds: Int32 = 5000
    ) throws {
        self.path = path
        let flags: Int32 =
            switch mode {
            case .readWriteCreate: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
            case .readOnly: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            }
        // Every open in the process goes through the hardened open from the first.
        _ = sidecar_sqlite_harden()
        var opened: OpaquePointer?
        let result = sqlite3_open_v2(path, &opened, flags, nil)
        handle = opened
        guard result == SQLITE_OK else {
            let error = StoreError(operation: "open \(path)", code: result, message: Self.message(opened, result))
            sqlite3_close_v2(opened)
            handle = nil
            throw error
        }
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, busyTimeoutMilliseconds)
        if mode == .readWriteCreate {
            // WAL so readers never block the writer.
            let journal = try scalarText("PRAGMA journal_mode=WAL")
            guard journal?.lowercased() == "wal" else {
                throw StoreError(operation: "enable WAL on \(path)", code: SQLITE_ERROR, message: "journal_mode is \(journal ?? "nil")")
            }
            try execute("PRAGMA synchronous=\(synchronous.rawValue.uppercased())")
            try execute("PRAGMA foreign_keys=ON")
        }
    }

    deinit {
        close()
    }

    public func close() {
        // Statements are finalized before their connection closes.
        if let statements = preparedTransaction {
            sqlite3_finalize(statements.begin)
            sqlite3_finalize(statements.commit)
            sqlite3_finalize(statements.rollback)
        }
        preparedTransaction = nil
        if let handle {
            sqlite3_close_v2(handle)
        }
        handle = nil
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard result == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? Self.message(handle, result)
            sqlite3_free(errorMessage)
            throw StoreError(operation: "execute", code: result, message: message)
        }
    }

    /// Runs a statement with bound values and returns every row as text
    /// (NULL as nil). Enough for schema work and small lookups.
    public func query(_ sql: String, _ values: [StoreValue] = []) throws -> [[String?]] {
        let statement = try prepare(sql)
        defer { sqlite3_finalize(statement) }
        var bindings = Statement.Bindings(handle: statement, database: self)
        for value in values { try bindings.append(value) }
        var rows: [[String?]] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else {
                throw StoreError(operation: "step", code: step, message: Self.message(handle, step))
            }
            let columns = sqlite3_column_count(statement)
            rows.append((0..<columns).map { column in
                sqlite3_column_text(statement, column).map { String(cString: $0) }
            })
        }
        return rows
    }

    public func scalarText(_ sql: String, _ values: [StoreValue] = []) throws -> String? {
        try query(sql, values).first?.first ?? nil
    }

    public func scalarInt(_ sql: String, _ values: [StoreValue] = []) throws -> Int64? {
        try scalarText(sql, values).flatMap { Int64($0) }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let statements = try transactionStatements()
        try runPrepared(statements.begin)
        do {
            let result = try body()
            try runPrepared(statements.commit)
            return result
        } catch {
            try? runPrepared(statements.rollback)
            throw error
        }
    }

    /// BEGIN IMMEDIATE, COMMIT and ROLLBACK, prepared once: the retry
    /// ledger's group commit runs thousands of transactions a second, and
    /// parsing BEGIN and COMMIT each time was a tenth of one. Raw handles,
    /// finalized in `close`: a `Statement` holds its database, and held here
    /// it would keep the database from ever being released.
    private var preparedTransaction: (begin: OpaquePointer?, commit: OpaquePointer?, rollback: OpaquePointer?)?

    private func transactionStatements() throws -> (begin: OpaquePointer?, commit: OpaquePointer?, rollback: OpaquePointer?) {
        if let preparedTransaction { return preparedTransaction }
        var made: [OpaquePointer?] = []
        do {
            for sql in ["BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"] { made.append(try prepare(sql)) }
        } catch {
            for statement in made { sqlite3_finalize(statement) }
            throw error
        }
        let statements = (begin: made[0], commit: made[1], rollback: made[2])
        preparedTransaction = statements
        return statements
    }

    private func runPrepared(_ statement: OpaquePointer?) throws {
        defer { sqlite3_reset(statement) }
        let step = sqlite3_step(statement)
        guard step == SQLITE_DONE else {
            throw StoreError(operation: "step", code: step, message: Self.message(handle, step))
        }
    }

    /// A statement to run many times; finalized when released.
    public func statement(_ sql: String) throws -> Statement {
        Statement(database: self, handle: try prepare(sql))
    }

    func lastMessage(_ code: Int32) -> String {
        Self.message(handle, code)
    }

    private func prepare(_ sql: String) throws -> OpaquePointer? {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard result == SQLITE_OK else {
            throw StoreError(operation: "prepare", code: result, message: Self.message(handle, result))
        }
        return statement
    }

    private static func message(_ handle: OpaquePointer?, _ code: Int32) -> String {
        if let handle, let text = sqlite3_errmsg(handle) { return String(cString: text) }
        return String(cString: sqlite3_errstr(code))
    }
}

public enum StoreValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}
