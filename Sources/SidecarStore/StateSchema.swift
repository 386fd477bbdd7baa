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
    ]

    /// Opens (creating if needed) and migrates the state database.
    public static func open(stateDirectory: String) throws -> Database {
        let database = try Database(path: stateDirectory + "/" + fileName)
        try Migrator.migrate(database, migrations)
        return database
    }
}
