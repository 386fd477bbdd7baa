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
        try run { bindings in
            for value in values { try bindings.append(value) }
        }
    }

    /// Binds what `bind` appends to ?1, ?2, ..., runs to completion, and
    /// resets. For rows written thousands of times a second: no array of
    /// values is built and no text is measured twice.
    public func run(_ bind: (inout Bindings) throws -> Void) throws {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        var bindings = Bindings(handle: handle, database: database)
        try bind(&bindings)
        let step = sqlite3_step(handle)
        guard step == SQLITE_DONE || step == SQLITE_ROW else {
            throw StoreError(operation: "step", code: step, message: database.lastMessage(step))
        }
    }

    /// The parameters of one run, bound in order.
    public struct Bindings {
        private let handle: OpaquePointer?
        private let database: Database
        private var index: Int32 = 1

        init(handle: OpaquePointer?, database: Database) {
            self.handle = handle
            self.database = database
        }

        public mutating func append(_ text: String) throws {
            var text = text
            let result = text.withUTF8 { [handle, index] bytes in
                // An empty buffer may have no address, and SQLite reads a nil
                // pointer as NULL, not as empty text.
                guard let base = bytes.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, Self.transient) }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text(handle, index, $0, Int32(bytes.count), Self.transient)
                }
            }
            try advance(result)
        }

        public mutating func append(_ number: Int64) throws {
            try advance(sqlite3_bind_int64(handle, index, number))
        }

        public mutating func append(_ number: Double) throws {
            try advance(sqlite3_bind_double(handle, index, number))
        }

        public mutating func appendNull() throws {
            try advance(sqlite3_bind_null(handle, index))
        }

        public mutating func append(_ value: StoreValue) throws {
            switch value {
            case .null: try appendNull()
            case .integer(let number): try append(number)
            case .real(let number): try append(number)
            case .text(let text): try append(text)
            }
        }

        private mutating func advance(_ result: Int32) throws {
            guard result == SQLITE_OK else {
                throw StoreError(operation: "bind", code: result, message: database.lastMessage(result))
            }
            index += 1
        }

        /// SQLITE_TRANSIENT: SQLite copies the bound text before the call returns.
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    }
}
