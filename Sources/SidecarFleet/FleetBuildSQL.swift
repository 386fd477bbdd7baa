/// One build per build key across the fleet (FLEET.md): a host claims the
/// key with the next epoch, renews the claim while it builds, and publishes
/// the result's digest guarded by its epoch, so a builder that lost its
/// claim changes nothing. A claim is free again when its session is gone
/// from `pg_stat_activity` (a killed daemon: at once) or it was not renewed
/// in time (a lost host). Every change tells the others by NOTIFY.
enum FleetBuildSQL {
    static let channel = "sidecar_builds"

    static let table = """
        CREATE TABLE sidecar_builds (
          build_key text COLLATE "C" PRIMARY KEY,
          image text NOT NULL,
          epoch bigint NOT NULL,
          state text NOT NULL,
          claimed_by text NOT NULL,
          claimer_pid integer,
          claim_expires double precision NOT NULL,
          digest text NOT NULL,
          published_ref text NOT NULL,
          error text NOT NULL,
          failed_until double precision NOT NULL,
          updated_at double precision NOT NULL
        );
        """

    /// Whether the claim of row `b` still holds at `now` (an SQL
    /// expression): renewed within its time-to-live, by a session that is
    /// still there. Claim and read both judge by it.
    static func claimIsLive(now: String) -> String {
        "b.claim_expires > \(now) AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = b.claimer_pid)"
    }

    /// Takes the key unless it is published, failed within its back-off,
    /// or claimed by a live session whose claim has not expired.
    static let claimFunction = """
        CREATE FUNCTION sidecar_claim_build(p_key text, p_image text, p_host text, p_now double precision, p_ttl double precision)
        RETURNS TABLE (state text, epoch bigint, claimed_by text, digest text, published_ref text, error text,
          failed_until double precision)
        LANGUAGE plpgsql AS $body$
        DECLARE
          b sidecar_builds%ROWTYPE;
        BEGIN
          INSERT INTO sidecar_builds VALUES (p_key, p_image, 0, 'free', '', NULL, 0, '', '', '', 0, p_now)
            ON CONFLICT (build_key) DO NOTHING;
          SELECT * INTO b FROM sidecar_builds k WHERE k.build_key = p_key FOR UPDATE;
          IF b.state = 'published'
            OR (b.state = 'failed' AND b.failed_until > p_now)
            OR (b.state = 'building' AND \(claimIsLive(now: "p_now"))) THEN
            RETURN QUERY SELECT b.state, b.epoch, b.claimed_by, b.digest, b.published_ref, b.error, b.failed_until;
            RETURN;
          END IF;
          UPDATE sidecar_builds k SET epoch = k.epoch + 1, state = 'building', claimed_by = p_host,
            claimer_pid = pg_backend_pid(), claim_expires = p_now + p_ttl, error = '', updated_at = p_now
            WHERE k.build_key = p_key
            RETURNING * INTO b;
          PERFORM pg_notify('\(channel)', p_key);
          RETURN QUERY SELECT 'claimed'::text, b.epoch, b.claimed_by, b.digest, b.published_ref, b.error, b.failed_until;
        END
        $body$
        """

    /// True while the claim of `p_epoch` is still this host's.
    static let renewFunction = """
        CREATE FUNCTION sidecar_renew_build(p_key text, p_epoch bigint, p_now double precision, p_ttl double precision)
        RETURNS boolean
        LANGUAGE plpgsql AS $body$
        BEGIN
          UPDATE sidecar_builds k SET claim_expires = p_now + p_ttl, claimer_pid = pg_backend_pid(), updated_at = p_now
            WHERE k.build_key = p_key AND k.epoch = p_epoch AND k.state = 'building';
          RETURN FOUND;
        END
        $body$
        """

    /// Ends the claim of `p_epoch` as published (`p_digest`, `p_ref`) or
    /// failed (`p_error`, until `p_failed_until`). False when
    /// the claim was lost: a stale builder's result changes nothing.
    static let finishFunction = """
        CREATE FUNCTION sidecar_finish_build(
          p_key text, p_epoch bigint, p_digest text, p_ref text, p_error text, p_failed_until double precision,
          p_now double precision)
        RETURNS boolean
        LANGUAGE plpgsql AS $body$
        BEGIN
          UPDATE sidecar_builds k SET
            state = CASE WHEN p_digest <> '' THEN 'published' ELSE 'failed' END,
            digest = p_digest, published_ref = p_ref, error = p_error, failed_until = p_failed_until, claim_expires = 0, updated_at = p_now
            WHERE k.build_key = p_key AND k.epoch = p_epoch AND k.state = 'building';
          IF NOT FOUND THEN RETURN false; END IF;
          PERFORM pg_notify('\(channel)', p_key);
          RETURN true;
        END
        $body$
        """

    /// The row as it stands, with "free" for a claim nobody holds any more.
    static let readStatement = """
        SELECT CASE WHEN b.state = 'building' AND NOT (\(claimIsLive(now: "$2"))) THEN 'free' ELSE b.state END,
               b.epoch, b.claimed_by, b.digest, b.published_ref, b.error, b.failed_until
        FROM sidecar_builds b WHERE b.build_key = $1
        """
}
