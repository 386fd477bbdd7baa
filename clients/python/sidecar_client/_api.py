"""Every method of the service once: its wire name, how its request is made
from the Python arguments, and how its answer becomes a result. The two
faces (AsyncClient, Client) only add the I/O."""
from __future__ import annotations

from typing import Any, Callable, List, NamedTuple, Optional, Sequence

from . import _types as t
from ._process import process_start_time
from ._proto import sidecar_pb2 as pb


class Call(NamedTuple):
    method: str
    payload: bytes
    decode: Callable[[bytes], Any]


def _decoder(message_type: Any, convert: Callable[[Any], Any]) -> Callable[[bytes], Any]:
    def decode(payload: bytes) -> Any:
        return convert(message_type.FromString(payload))

    return decode


def _as(cls: Any) -> Callable[[Any], Any]:
    return lambda message: t.from_message(cls, message)


def _nothing(payload: bytes) -> None:
    return None


_health = _decoder(pb.HealthResponse, _as(t.HealthResponse))


def health() -> Call:
    return Call("Health", b"", _health)


def ensure_image(
    image: str, lease_holder: Optional[str], lease_ttl_seconds: Optional[int], lease_holder_pid: Optional[int] = None
) -> Call:
    request = pb.EnsureImageRequest(image=image, lease_holder=lease_holder or "", lease_ttl_seconds=lease_ttl_seconds or 0)
    if lease_holder_pid:
        request.lease_holder_pid = lease_holder_pid
        request.lease_holder_start_time = process_start_time(lease_holder_pid)
    return Call("EnsureImage", request.SerializeToString(), _decoder(pb.EnsureImageResponse, _as(t.EnsureImageResponse)))


class Page(NamedTuple):
    """One answer of a list method (they page: see "List methods page" in
    sidecar.proto): its items, and the token of the next page, "" on the
    last. The faces follow the tokens."""

    items: List[Any]
    next_page_token: str


def _page(message_type: Any, cls: Any, items: str) -> Callable[[bytes], Page]:
    return _decoder(message_type, lambda m: Page([t.from_message(cls, i) for i in getattr(m, items)], m.next_page_token))


def list_images(page_size: Optional[int] = None, page_token: str = "") -> Call:
    request = pb.ListImagesRequest(page_size=page_size or 0, page_token=page_token)
    return Call("ListImages", request.SerializeToString(), _page(pb.ListImagesResponse, t.ImageInfo, "images"))


def acquire_lease(target: str, holder: str, ttl_seconds: Optional[int], holder_pid: Optional[int] = None) -> Call:
    # No ttl: 600 s, or, bound to a process, as long as it lives.
    ttl = ttl_seconds if ttl_seconds is not None else (0 if holder_pid else 600)
    request = pb.AcquireLeaseRequest(target=target, holder=holder, ttl_seconds=ttl)
    if holder_pid:
        request.holder_pid = holder_pid
        request.holder_start_time = process_start_time(holder_pid)
    return Call("AcquireLease", request.SerializeToString(), _decoder(pb.Lease, _as(t.Lease)))


def release_lease(lease_id: str) -> Call:
    return Call("ReleaseLease", pb.ReleaseLeaseRequest(id=lease_id).SerializeToString(), _nothing)


def list_leases(page_size: Optional[int] = None, page_token: str = "") -> Call:
    request = pb.ListLeasesRequest(page_size=page_size or 0, page_token=page_token)
    return Call("ListLeases", request.SerializeToString(), _page(pb.ListLeasesResponse, t.Lease, "leases"))


def check_db(path: str, full: bool, max_errors: Optional[int]) -> Call:
    request = pb.CheckDbRequest(
        path=path, mode=pb.CheckDbRequest.FULL if full else pb.CheckDbRequest.QUICK, max_errors=max_errors or 0
    )
    return Call("CheckDb", request.SerializeToString(), _decoder(pb.CheckDbResponse, _as(t.CheckDbResponse)))


def report_db_error(path: str, client_id: str, message: Optional[str], sqlite_code: Optional[int], ok: bool) -> Call:
    request = pb.ReportDbErrorRequest(path=path, client_id=client_id, message=message or "", ok=ok)
    if sqlite_code is not None:
        request.sqlite_code = sqlite_code
    return Call(
        "ReportDbError", request.SerializeToString(), _decoder(pb.ReportDbErrorResponse, _as(t.ReportDbErrorResponse))
    )


def reserve_retry_slot(
    key: str, last_error: str, policy: Optional[str], exit_code: Optional[int], image: Optional[str] = None
) -> Call:
    request = pb.ReserveRetrySlotRequest(key=key, last_error=last_error, policy=policy or "", image=image or "")
    if exit_code is not None:
        request.exit_code = exit_code
    return Call(
        "ReserveRetrySlot",
        request.SerializeToString(),
        _decoder(pb.ReserveRetrySlotResponse, _as(t.ReserveRetrySlotResponse)),
    )


def complete_attempt(key: str, success: bool, error: Optional[str]) -> Call:
    request = pb.CompleteAttemptRequest(key=key, success=success, error=error or "")
    return Call("CompleteAttempt", request.SerializeToString(), _nothing)


def list_retries(
    state: Optional[str], key_prefix: Optional[str], page_size: Optional[int] = None, page_token: str = ""
) -> Call:
    request = pb.ListRetriesRequest(
        state=state or "", key_prefix=key_prefix or "", page_size=page_size or 0, page_token=page_token
    )
    return Call("ListRetries", request.SerializeToString(), _page(pb.ListRetriesResponse, t.RetryInfo, "retries"))


def list_policies() -> Call:
    return Call(
        "ListPolicies",
        b"",
        _decoder(pb.ListPoliciesResponse, lambda m: [t.from_message(t.RetryPolicyInfo, i) for i in m.policies]),
    )


def reset_retry(key: str) -> Call:
    return Call("ResetRetry", pb.ResetRetryRequest(key=key).SerializeToString(), _nothing)


def classify(
    message: Optional[str], exit_code: Optional[int], sqlite_code: Optional[int], image: Optional[str] = None
) -> Call:
    request = pb.ClassifyRequest(message=message or "", image=image or "")
    if exit_code is not None:
        request.exit_code = exit_code
    if sqlite_code is not None:
        request.sqlite_code = sqlite_code
    return Call("Classify", request.SerializeToString(), _decoder(pb.ClassifyResponse, _as(t.ClassifyResponse)))


def list_rules() -> Call:
    return Call(
        "ListRules", b"", _decoder(pb.ListRulesResponse, lambda m: [t.from_message(t.RuleInfo, r) for r in m.rules])
    )


def prune(dry_run: bool) -> Call:
    return Call("Prune", pb.PruneRequest(dry_run=dry_run).SerializeToString(), _decoder(pb.PruneResponse, _as(t.PruneResponse)))


def scrub() -> Call:
    return Call("Scrub", b"", _decoder(pb.ScrubResponse, _as(t.ScrubResponse)))


def metrics() -> Call:
    return Call("Metrics", b"", _decoder(pb.MetricsResponse, lambda m: m.text))


def reload() -> Call:
    return Call("Reload", b"", _decoder(pb.ReloadResponse, _as(t.ReloadResponse)))


def debug_sleep(milliseconds: int) -> Call:
    request = pb.SleepRequest(milliseconds=milliseconds)
    return Call("Debug.Sleep", request.SerializeToString(), _decoder(pb.SleepResponse, _as(t.SleepResponse)))


def watch(prefixes: Sequence[str]) -> Call:
    if isinstance(prefixes, str):
        prefixes = [prefixes]
    request = pb.WatchRequest(topics=list(prefixes))
    return Call("Watch", request.SerializeToString(), _decoder(pb.Event, _as(t.Event)))


#: The proto method each client method calls (tests check both faces have them all).
METHODS: List[str] = [
    "health", "ensure_image", "list_images", "scrub", "acquire_lease", "release_lease", "list_leases", "check_db",
    "report_db_error", "reserve_retry_slot", "complete_attempt", "list_retries", "list_policies", "reset_retry",
    "classify", "list_rules", "prune", "metrics", "reload", "debug_sleep", "watch",
]
