/// The `oci_refs` table: the last manifest each ref of the OCI layout was
/// seen intact with. It outlives damage to `index.json`, which is rebuilt
/// from it, and names the older copy a failed refresh can fall back on.
public final class KnownImageStore {
    public struct Record: Sendable, Equatable {
        public var ref: String
        public var mediaType: String
        public var digest: String
        public var size: Int64
        public var recordedUnixMilliseconds: Int64

        public init(ref: String, mediaType: String, digest: String, size: Int64, recordedUnixMilliseconds: Int64) {
            self.ref = ref
            self.mediaType = mediaType
            self.digest = digest
            self.size = size
            self.recordedUnixMilliseconds = recordedUnixMilliseconds
        }
    }

    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func loadAll() throws -> [Record] {
        try database.query("SELECT ref, media_type, digest, size, recorded_unix_ms FROM oci_refs ORDER BY ref").map { row in
            Record(
                ref: row[0] ?? "", mediaType: row[1] ?? "", digest: row[2] ?? "", size: Int64(row[3] ?? "") ?? 0,
                recordedUnixMilliseconds: Int64(row[4] ?? "") ?? 0)
        }
    }

    public func save(_ record: Record) throws {
        try database.statement("""
            INSERT INTO oci_refs (ref, media_type, digest, size, recorded_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT(ref) DO UPDATE SET media_type = excluded.media_type, digest = excluded.digest,
                size = excluded.size, recorded_unix_ms = excluded.recorded_unix_ms
            """).run([
            .text(record.ref), .text(record.mediaType), .text(record.digest), .integer(record.size),
            .integer(record.recordedUnixMilliseconds),
        ])
    }

    public func delete(ref: String) throws {
        try database.statement("DELETE FROM oci_refs WHERE ref = ?1").run([.text(ref)])
    }
}
