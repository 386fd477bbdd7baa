import CSQLite

/// A prepared statement, reused for many rows inside one transaction.
public final class Statement {
    private let handle: OpaquePointer?
    private let database: Database

    init(database: Database, handle: OpaquePointer?) {
        self.database = database
        self.handle = handle
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Binds `values` to ?1, ?2, ..., runs to completion, and resets.
    public func run(_ values: [StoreValue]) throws {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        for (index, value) in values.enumerated() {
            try database.bind(value, at: Int32(index + 1), in: handle)
        }
        let step = sqlite3_step(handle)
        guard step == SQLITE_DONE || step == SQLITE_ROW else {
            throw StoreError(operation: "step", code: step, message: database.lastMessage(step))
        }
    }
}
