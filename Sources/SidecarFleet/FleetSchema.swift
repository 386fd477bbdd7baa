import SidecarPostgres

/// The fleet's tables and functions in PostgreSQL, created and migrated by
/// the daemons themselves: versioned like the state database, applied
/// under an advisory lock so that hosts starting together migrate once.
public enum FleetSchema {
    /// What this daemon knows how to use; a newer database is refused.
    public static let version = 2

    /// The advisory lock the migration holds (any constant no other
    /// application on the database uses: "sidecar" in ASCII).
    static let migrationLock = "7596116411388273"

    /// The first statement: applies every missing migration in one
    /// transaction and answers the version found before, so a daemon
    /// older than the database can refuse it.
    public static var migrate: PostgresStatement {
        var steps = ""
        for (index, migration) in migrations.enumerated() {
            steps += """
                  IF found_version < \(index + 1) THEN
                \(migration)
                    UPDATE sidecar_fleet_schema SET version = \(index + 1);
                  END IF;

                """
        }
        return PostgresStatement("""
            DO $migrate$
            DECLARE found_version integer;
            BEGIN
              PERFORM pg_advisory_xact_lock(\(migrationLock));
              CREATE TABLE IF NOT EXISTS sidecar_fleet_schema (version integer NOT NULL);
              SELECT version INTO found_version FROM sidecar_fleet_schema;
              IF found_version IS NULL THEN
                INSERT INTO sidecar_fleet_schema VALUES (0);
                found_version := 0;
              END IF;
              IF found_version > \(version) THEN
                RAISE EXCEPTION 'the fleet schema is version %, newer than this sidecard''s %: upgrade sidecard', found_version, \(version)
                  USING ERRCODE = 'SCFS1';
              END IF;
            \(steps)END
            $migrate$
            """)
    }

    /// Each entry is one version's DDL, run inside the migration's block.
    static let migrations: [String] = [
        // 1: the shared retry ledger.
        """
            CREATE TABLE sidecar_retry_keys (
              key text COLLATE "C" PRIMARY KEY,
              policy text NOT NULL,
              state text NOT NULL,
              attempts integer NOT NULL,
              in_flight_since double precision,
              first_error text NOT NULL,
              last_error text NOT NULL,
              category text NOT NULL,
              remedy text NOT NULL,
              not_before double precision NOT NULL,
              created_at double precision NOT NULL,
              updated_at double precision NOT NULL,
              owner_uid bigint,
              updated_by text NOT NULL
            );
            CREATE INDEX sidecar_retry_in_flight ON sidecar_retry_keys (in_flight_since)
              WHERE in_flight_since IS NOT NULL AND state = 'active';
            -- Keys and active keys, one row per host for the changes that
            -- host made: a host's transactions write only its own row, so
            -- hosts never wait on each other for the budget's counts.
            CREATE TABLE sidecar_retry_counts (
              host_id text PRIMARY KEY,
              keys bigint NOT NULL,
              active bigint NOT NULL
            );
            EXECUTE $sql$\(FleetRetrySQL.countFunction)$sql$;
            EXECUTE $sql$\(FleetRetrySQL.reserveFunction)$sql$;
            EXECUTE $sql$\(FleetRetrySQL.completeFunction)$sql$;
            EXECUTE $sql$\(FleetRetrySQL.resetFunction)$sql$;
            EXECUTE $sql$\(FleetRetrySQL.expireFunction)$sql$;
            EXECUTE $sql$\(FleetRetrySQL.mergeFunction)$sql$;
        """,
        // 2: one build per build key across the fleet.
        """
            \(FleetBuildSQL.table)
            EXECUTE $sql$\(FleetBuildSQL.claimFunction)$sql$;
            EXECUTE $sql$\(FleetBuildSQL.renewFunction)$sql$;
            EXECUTE $sql$\(FleetBuildSQL.finishFunction)$sql$;
        """,
    ]
}
