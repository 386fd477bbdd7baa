import SidecarCore

/// The `leases` table: every lease is written before it is answered, so a
/// restart keeps it (an expired one is dropped when the daemon next sweeps,
/// one whose holder process ended while the daemon was down at its start).
public final class LeaseStore {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func loadAll() throws -> [LeaseRecord] {
        try database.query("SELECT id, target, holder, expires_unix_ms, holder_pid, holder_start_time, owner_uid FROM leases").map { row in
            let pid = Int32(row[4] ?? "") ?? 0
            return LeaseRecord(
                id: row[0] ?? "", target: row[1] ?? "", holder: row[2] ?? "", expiresUnixMilliseconds: Int64(row[3] ?? "") ?? 0,
                holderProcess: pid > 0 ? ProcessIdentity(pid: pid, startTime: UInt64(row[5] ?? "") ?? 0) : nil,
                ownerUID: row[6].flatMap { UInt32($0) })
        }
    }

    public func save(_ lease: LeaseRecord) throws {
        let process = lease.holderProcess
        try database.statement("""
            INSERT INTO leases (id, target, holder, expires_unix_ms, holder_pid, holder_start_time, owner_uid)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT(id) DO UPDATE SET expires_unix_ms = excluded.expires_unix_ms
            """).run([
                .text(lease.id), .text(lease.target), .text(lease.holder), .integer(lease.expiresUnixMilliseconds),
                .integer(Int64(process?.pid ?? 0)), .integer(Int64(bitPattern: process?.startTime ?? 0)),
                lease.ownerUID.map { .integer(Int64($0)) } ?? .null,
            ])
    }

    public func delete(ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try database.transaction {
            let delete = try database.statement("DELETE FROM leases WHERE id = ?1")
            for id in ids { try delete.run([.text(id)]) }
        }
    }
}
