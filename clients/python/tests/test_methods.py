"""Every method, through both faces, against a real sidecard."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import pytest

import sidecar_client as sc
from conftest import IMAGES, STREAK_THRESHOLD, damage, eventually
from sidecar_client._proto import sidecar_pb2 as pb

NEVER_PULL = 'Container image "optio-node:latest" is not present with pull policy of Never'


class Blocking:
    """AsyncClient behind the blocking interface, on a private loop, so
    that one test body exercises both faces."""

    def __init__(self, client: sc.AsyncClient) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name):
        method = getattr(self.client, name)
        if name.startswith("iter_"):  # an async iterator: its items, collected on the loop

            async def collect(*args, **kwargs):
                return [item async for item in method(*args, **kwargs)]

            return lambda *args, **kwargs: iter(self.loop.run_until_complete(collect(*args, **kwargs)))

        def run(*args, **kwargs):
            return self.loop.run_until_complete(method(*args, **kwargs))

        return run

    @property
    def server_info(self):
        return self.client.server_info

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(params=["Client", "AsyncClient"])
def client(request, daemon):
    if request.param == "Client":
        c = sc.Client(daemon.socket_path, client_name="pytest")
        yield c
        c.close()
    else:
        c = Blocking(sc.AsyncClient(daemon.socket_path, client_name="pytest"))
        yield c
        c.close()


def test_health(client, daemon):
    health = client.health()
    assert health.pid == daemon.pid
    assert health.state == "serving"
    assert health.image_presence.startswith("ttl: "), "the command backend hears of no changes"
    assert health.version and health.connections >= 1 and health.inflight_calls == 1
    # No [fleet] in the config: fleet mode is off.
    assert (health.fleet_state, health.fleet_host_id, health.fleet_reason, health.fleet_degraded_since_unix_ms) == (
        "", "", "", 0)
    assert (health.fleet_claims, health.fleet_waits) == ([], [])
    info = client.server_info
    assert (info.server_version, info.max_message_bytes, info.max_inflight_calls) == (health.version, 4194304, 256)


def test_classify(client):
    verdict = client.classify(NEVER_PULL)
    assert (verdict.category, verdict.permanent) == ("image_missing", True)
    # The remedy names the image the caller gives, never one read from the message.
    assert "optio-node:latest" not in verdict.remedy and verdict.rule.startswith("builtin:")
    assert verdict.retry_after_seconds == 0
    named = client.classify(NEVER_PULL, image="registry.local/agent:7")
    assert "sidecarctl ensure-image registry.local/agent:7" in named.remedy
    limited = client.classify("toomanyrequests: retry-after: 1.5s, allowed: 44000/minute")
    assert (limited.category, limited.permanent, limited.retry_after_seconds) == ("rate_limited", False, 1.5)
    assert client.classify("toomanyrequests: You have reached your pull rate limit").retry_after_seconds == 60
    assert client.classify(exit_code=125).category == "container_runtime"
    assert client.classify(sqlite_code=11).category == "db_corrupt"
    with pytest.raises(sc.SidecarError) as raised:
        client.classify()
    assert raised.value.code == sc.StatusCode.INVALID_ARGUMENT


def test_list_rules(client):
    rules = client.list_rules()
    assert rules[0].id == "builtin:err-image-never-pull" and "errimageneverpull" in rules[0].match
    by_id = {rule.id: rule for rule in rules}
    assert by_id["builtin:rate-limited"].retry_after_seconds == 60
    assert by_id["builtin:container-runtime-exit-125"].exit_code == 125
    assert by_id["builtin:rate-limited"].exit_code is None
    assert by_id["builtin:sqlite-corrupt-code"].sqlite_codes == [11, 26]
    assert "{image" in by_id["builtin:manifest-unknown"].remedy


def test_images_and_leases(client, daemon):
    assert not daemon.present("app")
    built = client.ensure_image("app", timeout=30)
    assert built.outcome is sc.Outcome.BUILT and built.name == "app" and built.ref == "localhost/app:latest"
    assert built.job_seconds > 0 and built.lease is None and daemon.builds("app") == 1 and daemon.present("app")
    again = client.ensure_image("localhost/app:latest", lease_holder="runner-7/task-1", lease_ttl_seconds=60)
    assert again.outcome is sc.Outcome.PRESENT and daemon.builds("app") == 1
    assert again.lease is not None and again.lease.holder == "runner-7/task-1" and again.lease.target
    images = {image.name: image for image in client.list_images()}
    assert images["app"].present and images["app"].ref == "localhost/app:latest"
    assert not images["leased"].present

    lease = client.acquire_lease("leased", "runner-8", 120)
    assert lease.id and lease.holder == "runner-8" and lease.expires_unix_ms > time.time() * 1000
    held = {(l.id, l.holder) for l in client.list_leases()}
    assert (lease.id, "runner-8") in held and (again.lease.id, "runner-7/task-1") in held
    client.release_lease(lease.id)
    assert lease.id not in {l.id for l in client.list_leases()}

    holder = subprocess.Popen(["sleep", "60"])
    try:
        bound = client.acquire_lease("leased", "container/x", holder_pid=holder.pid)
        assert bound.holder_pid == holder.pid and bound.holder_start_time == sc.process_start_time(holder.pid)
        assert bound.expires_unix_ms == 0, "bound to a process without a ttl: no time limit"
        holder.kill()
        holder.wait()
        deadline = time.time() + 2
        while bound.id in {l.id for l in client.list_leases()} and time.time() < deadline:
            time.sleep(0.02)
        assert bound.id not in {l.id for l in client.list_leases()}, "ended with its holder process"
    finally:
        holder.kill()
        holder.wait()
    with pytest.raises(sc.SidecarError) as raised:
        client.release_lease(lease.id)
    assert raised.value.code == sc.StatusCode.NOT_FOUND

    pruned = client.prune(dry_run=True)
    assert isinstance(pruned, sc.PruneResponse) and "app" not in pruned.removed and daemon.present("app")
    # The command backend keeps no blobs of its own: nothing to scrub.
    with pytest.raises(sc.SidecarError) as scrubbed:
        client.scrub()
    assert scrubbed.value.code == sc.StatusCode.FAILED_PRECONDITION and "oci-layout" in scrubbed.value.message


def test_a_failed_build_raises_unavailable_with_its_detail_then_backs_off(client, daemon):
    daemon.flag("broken", "fail")
    with pytest.raises(sc.SidecarError) as raised:
        client.ensure_image("broken", timeout=30)
    error = raised.value
    # No rule knows the build's output: transient, UNAVAILABLE (exit 75).
    assert error.code == sc.StatusCode.UNAVAILABLE
    assert "no space left in the test" in error.message
    assert error.detail is not None and error.detail.category and error.detail.remedy
    with pytest.raises(sc.SidecarError) as backing_off:
        client.ensure_image("broken")
    assert backing_off.value.code == sc.StatusCode.UNAVAILABLE, "the back-off answers what the failure was"
    assert backing_off.value.detail is not None and backing_off.value.detail.retry_after_seconds > 0
    assert daemon.builds("broken") == 1
    with pytest.raises(sc.SidecarError) as unknown:
        client.ensure_image("nobody-knows-me")
    assert unknown.value.code == sc.StatusCode.NOT_FOUND


def test_databases(client, daemon, tmp_short):
    healthy = daemon.database("inbound.db", rows=200)
    check = client.check_db(healthy)
    assert check.verdict is sc.DbVerdict.OK and check.resolved_path == healthy
    damaged = daemon.database("outbound.db")
    damage(damaged)
    full = client.check_db(damaged, full=True, max_errors=3)
    assert full.verdict is sc.DbVerdict.CORRUPT and 1 <= len(full.messages) <= 3
    assert client.check_db(os.path.join(daemon.data, "none.db")).verdict is sc.DbVerdict.MISSING
    with pytest.raises(sc.SidecarError) as outside:
        client.check_db(os.path.join(tmp_short, "sidecar.toml"))
    assert outside.value.code == sc.StatusCode.PERMISSION_DENIED
    assert outside.value.message.startswith("OUTSIDE_ROOTS:") and outside.value.detail.category == "outside_roots"

    for streak in range(1, STREAK_THRESHOLD):
        answer = client.report_db_error(healthy, "runner-7", "database disk image is malformed")
        assert (answer.action, answer.streak, answer.threshold) == (sc.Action.CONTINUE, streak, STREAK_THRESHOLD)
    torn = client.report_db_error(healthy, "runner-7", sqlite_code=11)
    assert torn.action is sc.Action.EXIT_TEMPFAIL and torn.verdict is sc.DbVerdict.OK
    assert client.report_db_error(healthy, "runner-7", ok=True).streak == 0
    for _ in range(STREAK_THRESHOLD - 1):
        client.report_db_error(damaged, "runner-7", sqlite_code=11)
    corrupt = client.report_db_error(damaged, "runner-7", "database disk image is malformed")
    assert corrupt.action is sc.Action.CORRUPT and corrupt.verdict is sc.DbVerdict.CORRUPT and ".recover" in corrupt.remedy


def test_retries(client):
    grant = client.reserve_retry_slot("provision:task-1", "connection reset by peer", policy="provision")
    assert grant.decision is sc.Decision.GRANTED and grant.attempt == 1 and grant.delay_seconds >= 0
    assert grant.not_before_unix_ms > 0
    assert grant.answered_locally is False, "no fleet: the host's own ledger is the only one"
    [record] = client.list_retries(key_prefix="provision:")
    assert (record.key, record.policy, record.state, record.attempts, record.in_flight) == (
        "provision:task-1", "provision", "active", 1, True)
    client.complete_attempt("provision:task-1", True)
    assert client.list_retries(state="succeeded")[0].key == "provision:task-1"

    denied = client.reserve_retry_slot("provision:task-2", NEVER_PULL, exit_code=1, image="optio-node:latest")
    assert denied.decision is sc.Decision.DENIED_PERMANENT and denied.category == "image_missing"
    assert "sidecarctl ensure-image optio-node:latest" in denied.remedy
    assert {r.key for r in client.list_retries(state="failed")} == {"provision:task-2"}
    client.reset_retry("provision:task-2")
    assert client.list_retries(key_prefix="provision:task-2") == []
    with pytest.raises(sc.SidecarError) as raised:
        client.reset_retry("provision:task-2")
    assert raised.value.code == sc.StatusCode.NOT_FOUND
    with pytest.raises(sc.SidecarError) as bad:
        client.reserve_retry_slot("k", "e", policy="no-such-policy")
    assert bad.value.code == sc.StatusCode.INVALID_ARGUMENT

    policies = {p.name: p for p in client.list_policies()}
    assert set(policies) == {"default", "provision"}
    assert (policies["provision"].max_attempts, policies["provision"].base_delay_seconds) == (3, 10.0)


def calls_total(client, method: str) -> int:
    """sidecar_calls_total{method, code="OK"} of the daemon."""
    prefix = f'sidecar_calls_total{{method="{method}",code="OK"}} '
    return next((int(line[len(prefix):]) for line in client.metrics().splitlines() if line.startswith(prefix)), 0)


def test_the_list_methods_follow_the_pages(client, daemon):
    # A 64 KiB message limit: 150 keys of about 2 KB (first and last error) need several pages.
    daemon.write_config("[limits]\nmax_message_bytes = 65536\n")
    daemon.restart()
    long_error = "connection reset by peer " + "x" * 1000
    keys = [f"task-{i:03d}" for i in range(150)]
    for key in reversed(keys):  # the order listed is the daemon's, not the order of creation
        client.reserve_retry_slot(key, long_error)

    first = pb.ListRetriesResponse.FromString(client.call("ListRetries"))
    assert 0 < len(first.retries) < 150 and first.next_page_token, "one page does not hold them all"
    before = calls_total(client, "ListRetries")
    retries = client.list_retries()
    pages = calls_total(client, "ListRetries") - before
    assert [r.key for r in retries] == keys, "every key once, in key order"
    assert pages > 1
    assert {(r.last_error, r.owner_uid) for r in retries} == {(long_error, os.getuid())}
    before = calls_total(client, "ListRetries")
    assert [r.key for r in client.iter_retries(key_prefix="task-1", page_size=7)] == keys[100:]
    assert calls_total(client, "ListRetries") - before == 8, "50 keys, 7 a page, the filter on every page"

    lease = client.acquire_lease("leased", "runner-9", 60)
    assert lease.owner_uid == os.getuid()
    assert [(l.id, l.owner_uid) for l in client.iter_leases(page_size=1)] == [(lease.id, os.getuid())]
    names = [image.name for image in client.iter_images(page_size=2)]
    assert names == sorted(names) and set(IMAGES) <= set(names) and len(names) == len(set(names))

    images_token = pb.ListImagesResponse.FromString(
        client.call("ListImages", pb.ListImagesRequest(page_size=2).SerializeToString())
    ).next_page_token
    for token in [images_token, "not base64!", "QUJD"]:
        with pytest.raises(sc.SidecarError) as bad:
            client.call("ListRetries", pb.ListRetriesRequest(page_token=token).SerializeToString())
        assert bad.value.code == sc.StatusCode.INVALID_ARGUMENT, bad.value.message


def test_metrics_and_reload(client, daemon):
    client.health()
    assert 'sidecar_calls_total{method="Health",code="OK"}' in client.metrics()
    reloaded = client.reload()
    assert reloaded.config_path == daemon.config_path and reloaded.needs_restart == []


def test_debug_sleep_and_the_deadline_on_the_wire(client):
    start = time.monotonic()
    slept = client.debug_sleep(50).slept_seconds
    assert 0.045 <= slept <= time.monotonic() - start  # the daemon's timer, not the client's
    start = time.monotonic()
    with pytest.raises(sc.SidecarError) as raised:
        client.debug_sleep(10_000, timeout=0.2)
    assert raised.value.code == sc.StatusCode.DEADLINE_EXCEEDED
    assert "the daemon did not enforce" not in raised.value.message  # the daemon's own answer
    assert 0.19 < time.monotonic() - start < 1.0
    assert client.health().inflight_calls == 1  # the connection goes on


def test_the_local_deadline_when_the_daemon_does_not_answer(client, daemon):
    client.health()  # connected
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        with pytest.raises(sc.SidecarError) as raised:
            client.health(timeout=0.2)
        elapsed = time.monotonic() - start
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    assert raised.value.code == sc.StatusCode.DEADLINE_EXCEEDED and "did not enforce" in raised.value.message
    assert 1.1 < elapsed < 3
    assert client.health().pid == daemon.pid  # the late answer is dropped; the connection goes on
