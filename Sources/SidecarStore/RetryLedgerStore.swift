import SidecarCore

/// The retry ledger's rows in the state database. Written from the thread
/// pool, one batch per transaction (group commit); read once at start.
public final class RetryLedgerStore: @unchecked Sendable {
    // @unchecked: the daemon hands it to one pool thread at a time (one
    // commit in flight), never to two threads at once.
    private let database: Database
    private var upsertStatement: Statement?
    private var deleteStatement: Statement?

    public init(stateDirectory: String, synchronous: Database.Synchronous) throws {
        database = try Database(path: stateDirectory + "/" + StateSchema.fileName, synchronous: synchronous)
        try Migrator.migrate(database, StateSchema.migrations)
    }

    public func loadAll() throws -> [RetryRecord] {
        try database.query("SELECT \(RetryRecord.columnNames.joined(separator: ", ")) FROM retry_keys").map(RetryRecord.init(columns:))
    }

    /// Writes one batch in one transaction: durable when this returns.
    public func write(upserts: [RetryRecord], deletes: [String]) throws {
        try database.transaction {
            if !upserts.isEmpty {
                let statement = try cachedUpsert()
                for record in upserts {
                    // Bound one by one: an array of values per row was
                    // most of the binding's cost.
                    try statement.run { row in
                        try row.append(record.key)
                        try row.append(record.policy)
                        try row.append(record.state.rawValue)
                        try row.append(Int64(record.attempts))
                        if let since = record.inFlightSince { try row.append(since) } else { try row.appendNull() }
                        try row.append(record.firstError)
                        try row.append(record.lastError)
                        try row.append(record.category)
                        try row.append(record.remedy)
                        try row.append(record.notBefore)
                        try row.append(record.createdAt)
                        try row.append(record.updatedAt)
                        if let owner = record.ownerUID { try row.append(Int64(owner)) } else { try row.appendNull() }
                    }
                }
            }
            if !deletes.isEmpty {
                let statement = try cachedDelete()
                for key in deletes { try statement.run { try $0.append(key) } }
            }
        }
    }

    public func close() {
        upsertStatement = nil
        deleteStatement = nil
        database.close()
    }

    private func cachedUpsert() throws -> Statement {
        if let upsertStatement { return upsertStatement }
        let statement = try database.statement("""
            INSERT INTO retry_keys (key, policy, state, attempts, in_flight_since, first_error, last_error,
                                    category, remedy, not_before, created_at, updated_at, owner_uid)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            ON CONFLICT (key) DO UPDATE SET
                policy = excluded.policy, state = excluded.state, attempts = excluded.attempts,
                in_flight_since = excluded.in_flight_since, first_error = excluded.first_error,
                last_error = excluded.last_error, category = excluded.category, remedy = excluded.remedy,
                not_before = excluded.not_before, created_at = excluded.created_at, updated_at = excluded.updated_at,
                owner_uid = excluded.owner_uid
            """)
        upsertStatement = statement
        return statement
    }

    private func cachedDelete() throws -> Statement {
        if let deleteStatement { return deleteStatement }
        let statement = try database.statement("DELETE FROM retry_keys WHERE key = ?1")
        deleteStatement = statement
        return statement
    }
}
