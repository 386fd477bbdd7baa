"""The results of the calls: dataclasses with the response fields of
proto/sidecar/v1/sidecar.proto, enum fields as `enum.IntEnum` members named
as in the proto. tests/test_schema.py checks them against the schema."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar

T = TypeVar("T")


class Outcome(enum.IntEnum):
    """EnsureImageResponse.Outcome."""

    OUTCOME_UNSPECIFIED = 0
    PRESENT = 1
    BUILT = 2
    PULLED = 3
    REPAIRED = 4
    STALE = 5


class DbVerdict(enum.IntEnum):
    DB_VERDICT_UNSPECIFIED = 0
    OK = 1
    CORRUPT = 2
    NOT_A_DATABASE = 3
    MISSING = 4
    BUSY = 5
    OUTSIDE_ROOTS = 6
    UNREADABLE = 7


class Action(enum.IntEnum):
    """ReportDbErrorResponse.Action."""

    ACTION_UNSPECIFIED = 0
    CONTINUE = 1
    EXIT_TEMPFAIL = 2
    CORRUPT = 3


class Decision(enum.IntEnum):
    """ReserveRetrySlotResponse.Decision."""

    DECISION_UNSPECIFIED = 0
    GRANTED = 1
    DENIED_PERMANENT = 2
    EXHAUSTED = 3
    THROTTLED = 4


# How a field is taken from the protobuf message: dataclass field metadata
# "enum", "message", "messages" (a class), "list", "map" or "optional" (a
# oneof-wrapped scalar: None when unset); none: as is.


def from_message(cls: Type[T], message: Any) -> T:
    """The dataclass `cls` with the fields of the protobuf `message`."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = [(f.name, f.metadata) for f in fields(cls)]  # type: ignore[arg-type]
    values: Dict[str, Any] = {}
    for name, meta in plan:
        value = getattr(message, name)
        if not meta:
            values[name] = value
            continue
        if "enum" in meta:
            try:
                value = meta["enum"](value)
            except ValueError:  # a newer daemon's value: keep the number
                pass
        elif "message" in meta:
            value = from_message(meta["message"], value) if message.HasField(name) else None
        elif "messages" in meta:
            value = [from_message(meta["messages"], item) for item in value]
        elif "list" in meta:
            value = list(value)
        elif "map" in meta:
            value = dict(value)
        elif "optional" in meta:
            value = value if message.HasField(name) else None
        values[name] = value
    return cls(**values)


_PLANS: Dict[type, List[Tuple[str, Any]]] = {}


@dataclass
class HealthResponse:
    version: str
    uptime_seconds: float
    connections: int
    inflight_calls: int
    loop_lag_ms: float
    loop_lag_max_ms: float
    pid: int
    state: str
    image_presence: str
    #: Fleet mode (docs/fleet.md): "" when off; else "connecting",
    #: "connected" or "degraded" (the fleet's PostgreSQL unreachable).
    fleet_state: str
    #: This host's id in the fleet ("" when fleet mode is off).
    fleet_host_id: str
    #: "degraded": why, and since when (Unix ms); else "" and 0.
    fleet_reason: str
    fleet_degraded_since_unix_ms: int
    #: Fleet builds (fleet.registry): the images whose build claim this host
    #: holds, as "NAME (epoch N)", and those it waits on another host for,
    #: as "NAME (claimed by HOST)"; empty outside fleet mode.
    fleet_claims: List[str] = field(metadata={"list": True})
    fleet_waits: List[str] = field(metadata={"list": True})


@dataclass
class ClassifyResponse:
    category: str
    permanent: bool
    remedy: str
    rule: str
    #: A transient failure: seconds until trying again makes sense (the
    #: delay the message asked for, else the rule's); 0: no advice.
    retry_after_seconds: float


@dataclass
class RuleInfo:
    """A classification rule as the daemon matches it (ListRules)."""

    id: str
    match: List[str] = field(metadata={"list": True})
    exit_code: Optional[int] = field(metadata={"optional": True})
    sqlite_codes: List[int] = field(metadata={"list": True})
    category: str
    permanent: bool
    retry_after_seconds: float
    #: As written, with its "{image}" / "{image|words}" slots.
    remedy: str


@dataclass
class Event:
    topic: str
    time_unix_ms: int
    subject: str
    message: str
    attributes: Dict[str, str] = field(metadata={"map": True})


@dataclass
class ReloadResponse:
    config_path: str
    needs_restart: List[str] = field(metadata={"list": True})


@dataclass
class Lease:
    id: str
    target: str
    holder: str
    # 0: no time limit (bound to a process, without a ttl).
    expires_unix_ms: int
    # The process the lease ends with, or 0.
    holder_pid: int
    holder_start_time: int
    #: The uid that took it; None for a lease from before owners were kept.
    owner_uid: Optional[int] = field(metadata={"optional": True})


@dataclass
class EnsureImageResponse:
    outcome: Outcome = field(metadata={"enum": Outcome})
    name: str
    ref: str
    id: str
    coalesced: bool
    job_seconds: float
    detail: str
    lease: Optional[Lease] = field(metadata={"message": Lease})
    queued_behind: int


@dataclass
class ImageInfo:
    name: str
    ref: str
    present: bool
    base_image: str
    keep_warm: bool
    state: str
    last_job_outcome: str
    last_job_end_unix_ms: int
    last_error: str
    backoff_remaining_seconds: float


@dataclass
class CheckDbResponse:
    verdict: DbVerdict = field(metadata={"enum": DbVerdict})
    messages: List[str] = field(metadata={"list": True})
    check_seconds: float
    shared: bool
    reused: bool
    resolved_path: str


@dataclass
class ReportDbErrorResponse:
    action: Action = field(metadata={"enum": Action})
    streak: int
    threshold: int
    remedy: str
    verdict: DbVerdict = field(metadata={"enum": DbVerdict})


@dataclass
class ReserveRetrySlotResponse:
    decision: Decision = field(metadata={"enum": Decision})
    attempt: int
    delay_seconds: float
    not_before_unix_ms: int
    category: str
    remedy: str
    attempts: int
    first_error: str
    last_error: str
    retry_after_seconds: float
    #: Fleet mode only: True when the fleet's ledger was unreachable and
    #: this host decided alone (the fleet-wide cap may then be overshot).
    answered_locally: bool


@dataclass
class RetryInfo:
    key: str
    policy: str
    state: str
    attempts: int
    first_error: str
    last_error: str
    updated_unix_ms: int
    category: str
    remedy: str
    not_before_unix_ms: int
    in_flight: bool
    #: The uid that created the key; None for a key from before owners were kept.
    owner_uid: Optional[int] = field(metadata={"optional": True})


@dataclass
class RetryPolicyInfo:
    name: str
    max_attempts: int
    base_delay_seconds: float
    max_delay_seconds: float
    key_idle_expiry_seconds: float


@dataclass
class PruneResponse:
    removed: List[str] = field(metadata={"list": True})
    bytes_freed: int
    kept_leased: List[str] = field(metadata={"list": True})


@dataclass
class ScrubFinding:
    ref: str
    damage: str
    repair: str


@dataclass
class ScrubResponse:
    images: int
    blobs: int
    bytes: int
    seconds: float
    damaged: List[ScrubFinding] = field(metadata={"messages": ScrubFinding})
    skipped_blobs: int


@dataclass
class SleepResponse:
    slept_seconds: float
