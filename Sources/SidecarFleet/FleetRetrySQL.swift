/// The retry ledger's rules as PostgreSQL functions: `RetryLedger`'s
/// reserve, complete, reset and expire, line for line, over a row locked
/// for the transaction (so a reserve is linearizable per key across the
/// fleet). The daemon still classifies the error and draws the jitter,
/// and passes both in: the functions decide nothing `RetryLedger` would not.
/// A test runs one scripted sequence through both and compares every answer.
enum FleetRetrySQL {
    /// Answers one row: outcome (granted, denied_permanent, exhausted,
    /// throttled, full, not_owner), attempts, delay, not_before, category,
    /// remedy, first_error, last_error, owner_uid, retry_after.
    static let reserveFunction = """
        CREATE FUNCTION sidecar_reserve(
          p_key text, p_policy text, p_max_attempts integer, p_base_delay double precision,
          p_max_delay double precision, p_jitter double precision, p_last_error text, p_permanent boolean,
          p_category text, p_remedy text, p_now double precision, p_uid bigint, p_admin boolean,
          p_max_keys bigint, p_budget_percent double precision, p_budget_min integer,
          p_attempt_timeout double precision, p_host text)
        RETURNS TABLE (outcome text, attempts integer, delay double precision, not_before double precision,
          category text, remedy text, first_error text, last_error text, owner_uid bigint,
          retry_after double precision)
        LANGUAGE plpgsql AS $body$
        DECLARE
          r sidecar_retry_keys%ROWTYPE;
          inserted boolean := false;
          was_active boolean;
          active_total bigint;
          in_flight bigint;
          d double precision := 0;
          result text;
        BEGIN
          SELECT * INTO r FROM sidecar_retry_keys k WHERE k.key = p_key FOR UPDATE;
          IF NOT FOUND THEN
            IF (SELECT coalesce(sum(c.keys), 0) FROM sidecar_retry_counts c) >= p_max_keys THEN
              RETURN QUERY SELECT 'full'::text, 0, 0::float8, 0::float8, ''::text, ''::text, ''::text, ''::text,
                NULL::bigint, 0::float8;
              RETURN;
            END IF;
            INSERT INTO sidecar_retry_keys VALUES (p_key, p_policy, 'active', 0, NULL, '', '', '', '', 0, p_now, p_now,
              p_uid, p_host) ON CONFLICT (key) DO NOTHING;
            inserted := FOUND;
            SELECT * INTO r FROM sidecar_retry_keys k WHERE k.key = p_key FOR UPDATE;
          END IF;
          IF NOT inserted AND NOT (p_admin OR r.owner_uid IS NULL OR r.owner_uid = p_uid) THEN
            RETURN QUERY SELECT 'not_owner'::text, 0, 0::float8, 0::float8, ''::text, ''::text, ''::text, ''::text,
              r.owner_uid, 0::float8;
            RETURN;
          END IF;
          -- As the core: a key new in this call counts as not active before it.
          was_active := NOT inserted AND r.state = 'active';
          IF r.state = 'succeeded' THEN
            -- A new failure after a success is a new episode, of the same owner.
            r.policy := p_policy; r.state := 'active'; r.attempts := 0; r.first_error := ''; r.last_error := '';
            r.category := ''; r.remedy := ''; r.not_before := 0; r.created_at := p_now;
          END IF;
          r.updated_at := p_now;
          r.updated_by := p_host;
          IF p_last_error <> '' THEN
            IF r.first_error = '' THEN r.first_error := p_last_error; END IF;
            r.last_error := p_last_error;
          END IF;
          r.in_flight_since := NULL;
          IF r.state = 'failed' THEN
            result := 'denied_permanent';
          ELSIF r.state = 'exhausted' THEN
            result := 'exhausted';
          ELSIF p_permanent THEN
            r.state := 'failed'; r.category := p_category; r.remedy := p_remedy;
            result := 'denied_permanent';
          ELSIF r.attempts >= p_max_attempts THEN
            r.state := 'exhausted';
            result := 'exhausted';
          ELSE
            SELECT coalesce(sum(c.active), 0) + (CASE WHEN was_active THEN 0 ELSE 1 END) INTO active_total
              FROM sidecar_retry_counts c;
            SELECT count(*) INTO in_flight FROM sidecar_retry_keys k
              WHERE k.in_flight_since IS NOT NULL AND k.state = 'active'
                AND k.in_flight_since > p_now - p_attempt_timeout AND k.key <> p_key;
            IF in_flight >= greatest(p_budget_min, floor(p_budget_percent / 100 * active_total)::bigint) THEN
              result := 'throttled';
            ELSE
              r.attempts := r.attempts + 1;
              d := p_jitter * least(p_max_delay, p_base_delay * power(2::float8, least(greatest(r.attempts - 1, 0), 60)));
              r.not_before := p_now + d;
              r.in_flight_since := p_now;
              result := 'granted';
            END IF;
          END IF;
          UPDATE sidecar_retry_keys k SET policy = r.policy, state = r.state, attempts = r.attempts,
            in_flight_since = r.in_flight_since, first_error = r.first_error, last_error = r.last_error,
            category = r.category, remedy = r.remedy, not_before = r.not_before, created_at = r.created_at,
            updated_at = r.updated_at, updated_by = r.updated_by
            WHERE k.key = p_key;
          PERFORM sidecar_count(p_host, CASE WHEN inserted THEN 1 ELSE 0 END,
            (CASE WHEN r.state = 'active' THEN 1 ELSE 0 END) - (CASE WHEN was_active THEN 1 ELSE 0 END));
          RETURN QUERY SELECT result, r.attempts, d, r.not_before, r.category, r.remedy, r.first_error, r.last_error,
            r.owner_uid, (CASE WHEN result = 'throttled' THEN greatest(1::float8, p_base_delay) ELSE 0::float8 END);
        END
        $body$
        """

    /// Answers unknown, not_owner, changed or unchanged.
    static let completeFunction = """
        CREATE FUNCTION sidecar_complete(
          p_key text, p_success boolean, p_error text, p_now double precision, p_uid bigint, p_admin boolean,
          p_host text)
        RETURNS TABLE (outcome text, owner_uid bigint)
        LANGUAGE plpgsql AS $body$
        DECLARE
          r sidecar_retry_keys%ROWTYPE;
          before sidecar_retry_keys%ROWTYPE;
        BEGIN
          SELECT * INTO r FROM sidecar_retry_keys k WHERE k.key = p_key FOR UPDATE;
          IF NOT FOUND THEN
            RETURN QUERY SELECT 'unknown'::text, NULL::bigint;
            RETURN;
          END IF;
          IF NOT (p_admin OR r.owner_uid IS NULL OR r.owner_uid = p_uid) THEN
            RETURN QUERY SELECT 'not_owner'::text, r.owner_uid;
            RETURN;
          END IF;
          before := r;
          r.in_flight_since := NULL;
          IF p_success THEN
            r.state := 'succeeded';
          ELSIF p_error <> '' THEN
            IF r.first_error = '' THEN r.first_error := p_error; END IF;
            r.last_error := p_error;
          END IF;
          IF r IS NOT DISTINCT FROM before THEN
            RETURN QUERY SELECT 'unchanged'::text, r.owner_uid;
            RETURN;
          END IF;
          UPDATE sidecar_retry_keys k SET state = r.state, in_flight_since = NULL, first_error = r.first_error,
            last_error = r.last_error, updated_at = p_now, updated_by = p_host
            WHERE k.key = p_key;
          PERFORM sidecar_count(p_host, 0,
            (CASE WHEN r.state = 'active' THEN 1 ELSE 0 END) - (CASE WHEN before.state = 'active' THEN 1 ELSE 0 END));
          RETURN QUERY SELECT 'changed'::text, r.owner_uid;
        END
        $body$
        """

    /// True when the key was known.
    static let resetFunction = """
        CREATE FUNCTION sidecar_reset(p_key text, p_host text) RETURNS boolean
        LANGUAGE plpgsql AS $body$
        DECLARE
          old_state text;
        BEGIN
          DELETE FROM sidecar_retry_keys k WHERE k.key = p_key RETURNING k.state INTO old_state;
          IF NOT FOUND THEN RETURN false; END IF;
          PERFORM sidecar_count(p_host, -1, CASE WHEN old_state = 'active' THEN -1 ELSE 0 END);
          RETURN true;
        END
        $body$
        """

    /// Removes keys idle past their policy's expiry (`p_policies` and
    /// `p_idles` pair up; others use `p_default_idle`). Rows another
    /// transaction holds are skipped, for the next sweep: a sweep never
    /// waits on a reserve. Answers how many it removed.
    static let expireFunction = """
        CREATE FUNCTION sidecar_expire(
          p_now double precision, p_default_idle double precision, p_policies text[], p_idles double precision[],
          p_host text)
        RETURNS bigint
        LANGUAGE plpgsql AS $body$
        DECLARE
          removed bigint;
          removed_active bigint;
        BEGIN
          WITH idle AS (
            SELECT k.key FROM sidecar_retry_keys k
            WHERE p_now - k.updated_at >= coalesce(
              (SELECT u.idle FROM unnest(p_policies, p_idles) AS u(policy, idle) WHERE u.policy = k.policy),
              p_default_idle)
            ORDER BY k.key FOR UPDATE SKIP LOCKED
          ), gone AS (
            DELETE FROM sidecar_retry_keys k USING idle WHERE k.key = idle.key RETURNING k.state
          )
          SELECT count(*), count(*) FILTER (WHERE gone.state = 'active') INTO removed, removed_active FROM gone;
          IF removed > 0 THEN PERFORM sidecar_count(p_host, -removed, -removed_active); END IF;
          RETURN removed;
        END
        $body$
        """

    /// Adds what a host's own ledger did while the fleet was unreachable
    /// to the fleet's record: attempts add up, failed and exhausted stay
    /// (failed over exhausted), a success ends an active episode, and the
    /// latest error, grant and change win.
    static let mergeFunction = """
        CREATE FUNCTION sidecar_merge(
          p_key text, p_policy text, p_state text, p_attempts integer, p_in_flight_since double precision,
          p_first_error text, p_last_error text, p_category text, p_remedy text, p_not_before double precision,
          p_created_at double precision, p_updated_at double precision, p_owner bigint, p_host text)
        RETURNS void
        LANGUAGE plpgsql AS $body$
        DECLARE
          r sidecar_retry_keys%ROWTYPE;
          before_state text;
        BEGIN
          INSERT INTO sidecar_retry_keys VALUES (p_key, p_policy, p_state, p_attempts, p_in_flight_since, p_first_error,
            p_last_error, p_category, p_remedy, p_not_before, p_created_at, p_updated_at, p_owner, p_host)
            ON CONFLICT (key) DO NOTHING;
          IF FOUND THEN
            PERFORM sidecar_count(p_host, 1, CASE WHEN p_state = 'active' THEN 1 ELSE 0 END);
            RETURN;
          END IF;
          SELECT * INTO r FROM sidecar_retry_keys k WHERE k.key = p_key FOR UPDATE;
          before_state := r.state;
          r.attempts := r.attempts + p_attempts;
          IF p_state = 'failed' AND r.state <> 'failed' THEN
            r.state := 'failed'; r.category := p_category; r.remedy := p_remedy;
          ELSIF p_state = 'exhausted' AND r.state IN ('active', 'succeeded') THEN
            r.state := 'exhausted';
          ELSIF p_state = 'succeeded' AND r.state = 'active' THEN
            r.state := 'succeeded';
          END IF;
          IF p_last_error <> '' THEN
            IF r.first_error = '' THEN r.first_error := p_first_error; END IF;
            r.last_error := p_last_error;
          END IF;
          IF p_in_flight_since IS NOT NULL THEN
            r.in_flight_since := greatest(coalesce(r.in_flight_since, p_in_flight_since), p_in_flight_since);
          END IF;
          r.not_before := greatest(r.not_before, p_not_before);
          r.updated_at := greatest(r.updated_at, p_updated_at);
          UPDATE sidecar_retry_keys k SET state = r.state, attempts = r.attempts, in_flight_since = r.in_flight_since,
            first_error = r.first_error, last_error = r.last_error, category = r.category, remedy = r.remedy,
            not_before = r.not_before, updated_at = r.updated_at, updated_by = p_host
            WHERE k.key = p_key;
          PERFORM sidecar_count(p_host, 0,
            (CASE WHEN r.state = 'active' THEN 1 ELSE 0 END) - (CASE WHEN before_state = 'active' THEN 1 ELSE 0 END));
        END
        $body$
        """

    /// Adds to this host's counts (its row, created on first use).
    static let countFunction = """
        CREATE FUNCTION sidecar_count(p_host text, p_keys bigint, p_active bigint) RETURNS void
        LANGUAGE plpgsql AS $body$
        BEGIN
          IF p_keys = 0 AND p_active = 0 THEN RETURN; END IF;
          INSERT INTO sidecar_retry_counts AS c VALUES (p_host, p_keys, p_active)
            ON CONFLICT (host_id) DO UPDATE SET keys = c.keys + p_keys, active = c.active + p_active;
        END
        $body$
        """
}
