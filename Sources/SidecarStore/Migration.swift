/// One step of the state schema. Versions are applied in order, each in its
/// own transaction, and recorded in `schema_migrations`; a version is never
/// edited once it has shipped, only followed by a new one.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

public enum Migrator {
    /// Brings `database` up to the last of `migrations`; returns the versions applied.
    /// Refuses a database whose schema is newer than this build knows.
    @discardableResult
    public static func migrate(_ database: Database, _ migrations: [Migration]) throws -> [Int] {
        try database.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_unix_ms INTEGER NOT NULL
            )
            """)
        let current = try currentVersion(database)
        let newest = migrations.map(\.version).max() ?? 0
        if current > newest {
            throw StoreError(
                operation: "migrate \(database.path)", code: 1,
                message: "the state schema is at version \(current), newer than this sidecard knows (\(newest)); "
                    + "run a newer sidecard or move the state directory aside")
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where migration.version > current {
            try database.transaction {
                try database.execute(migration.sql)
                _ = try database.query(
                    "INSERT INTO schema_migrations (version, name, applied_unix_ms) VALUES (?, ?, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
                    [.integer(Int64(migration.version)), .text(migration.name)])
            }
            applied.append(migration.version)
        }
        return applied
    }

    public static func currentVersion(_ database: Database) throws -> Int {
        Int(try database.scalarInt("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0)
    }
}
