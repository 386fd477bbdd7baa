/// The daemon's state database, `<state_dir>/sidecar.db`. Issues that need
/// durable state add their tables as new migrations at the end of the list.
public enum StateSchema {
    public static let fileName = "sidecar.db"

    public static let migrations: [Migration] = [
        Migration(version: 1, name: "daemon metadata", sql: """
            CREATE TABLE daemon_meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            """),
        Migration(version: 2, name: "retry ledger", sql: """
            CREATE TABLE retry_keys (
                key TEXT PRIMARY KEY,
                policy TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                in_flight_since REAL,
                first_error TEXT NOT NULL,
                last_error TEXT NOT NULL,
                category TEXT NOT NULL,
                remedy TEXT NOT NULL,
                not_before REAL NOT NULL,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            );
            """),
        Migration(version: 3, name: "leases", sql: """
            CREATE TABLE leases (
                id TEXT PRIMARY KEY,
                target TEXT NOT NULL,
                holder TEXT NOT NULL,
                expires_unix_ms INTEGER NOT NULL
            );
            """),
        Migration(version: 4, name: "oci layout refs", sql: """
            CREATE TABLE oci_refs (
                ref TEXT PRIMARY KEY,
                media_type TEXT NOT NULL,
                digest TEXT NOT NULL,
                size INTEGER NOT NULL,
                recorded_unix_ms INTEGER NOT NULL
            );
            """),
        // A lease may end with a process (issue 17): its pid and start time,
        // 0 when it is not bound to one.
        Migration(version: 5, name: "lease holder process", sql: """
            ALTER TABLE leases ADD COLUMN holder_pid INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE leases ADD COLUMN holder_start_time INTEGER NOT NULL DEFAULT 0;
            """),
        // Who created a record (issue 21): a non-admin may touch only its
        // own. NULL for records from before, which stay anyone's until they
        // expire.
        Migration(version: 6, name: "record owners", sql: """
            ALTER TABLE retry_keys ADD COLUMN owner_uid INTEGER;
            ALTER TABLE leases ADD COLUMN owner_uid INTEGER;
            """),
    ]

    /// Opens (creating if needed) and migrates the state database.
    public static func open(stateDirectory: String) throws -> Database {
        let database = try Database(path: stateDirectory + "/" + fileName)
        try Migrator.migrate(database, migrations)
        return database
    }
}
