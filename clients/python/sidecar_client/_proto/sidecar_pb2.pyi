from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

BUSY: DbVerdict
CORRUPT: DbVerdict
DB_VERDICT_UNSPECIFIED: DbVerdict
DESCRIPTOR: _descriptor.FileDescriptor
MISSING: DbVerdict
NOT_A_DATABASE: DbVerdict
OK: DbVerdict
OUTSIDE_ROOTS: DbVerdict
UNREADABLE: DbVerdict

class AcquireLeaseRequest(_message.Message):
    __slots__ = ["holder", "holder_pid", "holder_start_time", "target", "ttl_seconds"]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    HOLDER_PID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    holder: str
    holder_pid: int
    holder_start_time: int
    target: str
    ttl_seconds: int
    def __init__(self, target: _Optional[str] = ..., holder: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., holder_pid: _Optional[int] = ..., holder_start_time: _Optional[int] = ...) -> None: ...

class CheckDbRequest(_message.Message):
    __slots__ = ["max_errors", "mode", "path"]
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    FULL: CheckDbRequest.Mode
    MAX_ERRORS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    QUICK: CheckDbRequest.Mode
    max_errors: int
    mode: CheckDbRequest.Mode
    path: str
    def __init__(self, path: _Optional[str] = ..., mode: _Optional[_Union[CheckDbRequest.Mode, str]] = ..., max_errors: _Optional[int] = ...) -> None: ...

class CheckDbResponse(_message.Message):
    __slots__ = ["check_seconds", "messages", "resolved_path", "reused", "shared", "verdict"]
    CHECK_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_PATH_FIELD_NUMBER: _ClassVar[int]
    REUSED_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    check_seconds: float
    messages: _containers.RepeatedScalarFieldContainer[str]
    resolved_path: str
    reused: bool
    shared: bool
    verdict: DbVerdict
    def __init__(self, verdict: _Optional[_Union[DbVerdict, str]] = ..., messages: _Optional[_Iterable[str]] = ..., check_seconds: _Optional[float] = ..., shared: bool = ..., reused: bool = ..., resolved_path: _Optional[str] = ...) -> None: ...

class ClassifyRequest(_message.Message):
    __slots__ = ["exit_code", "image", "message", "sqlite_code"]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SQLITE_CODE_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    image: str
    message: str
    sqlite_code: int
    def __init__(self, message: _Optional[str] = ..., exit_code: _Optional[int] = ..., sqlite_code: _Optional[int] = ..., image: _Optional[str] = ...) -> None: ...

class ClassifyResponse(_message.Message):
    __slots__ = ["category", "permanent", "remedy", "retry_after_seconds", "rule"]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    category: str
    permanent: bool
    remedy: str
    retry_after_seconds: float
    rule: str
    def __init__(self, category: _Optional[str] = ..., permanent: bool = ..., remedy: _Optional[str] = ..., rule: _Optional[str] = ..., retry_after_seconds: _Optional[float] = ...) -> None: ...

class CompleteAttemptRequest(_message.Message):
    __slots__ = ["error", "key", "success"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    error: str
    key: str
    success: bool
    def __init__(self, key: _Optional[str] = ..., success: bool = ..., error: _Optional[str] = ...) -> None: ...

class CompleteAttemptResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class EnsureImageRequest(_message.Message):
    __slots__ = ["image", "lease_holder", "lease_holder_pid", "lease_holder_start_time", "lease_ttl_seconds"]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LEASE_HOLDER_FIELD_NUMBER: _ClassVar[int]
    LEASE_HOLDER_PID_FIELD_NUMBER: _ClassVar[int]
    LEASE_HOLDER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    image: str
    lease_holder: str
    lease_holder_pid: int
    lease_holder_start_time: int
    lease_ttl_seconds: int
    def __init__(self, image: _Optional[str] = ..., lease_holder: _Optional[str] = ..., lease_ttl_seconds: _Optional[int] = ..., lease_holder_pid: _Optional[int] = ..., lease_holder_start_time: _Optional[int] = ...) -> None: ...

class EnsureImageResponse(_message.Message):
    __slots__ = ["coalesced", "detail", "id", "job_seconds", "lease", "name", "outcome", "queued_behind", "ref"]
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    BUILT: EnsureImageResponse.Outcome
    COALESCED_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_UNSPECIFIED: EnsureImageResponse.Outcome
    PRESENT: EnsureImageResponse.Outcome
    PULLED: EnsureImageResponse.Outcome
    QUEUED_BEHIND_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    REPAIRED: EnsureImageResponse.Outcome
    STALE: EnsureImageResponse.Outcome
    coalesced: bool
    detail: str
    id: str
    job_seconds: float
    lease: Lease
    name: str
    outcome: EnsureImageResponse.Outcome
    queued_behind: int
    ref: str
    def __init__(self, outcome: _Optional[_Union[EnsureImageResponse.Outcome, str]] = ..., name: _Optional[str] = ..., ref: _Optional[str] = ..., id: _Optional[str] = ..., coalesced: bool = ..., job_seconds: _Optional[float] = ..., detail: _Optional[str] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., queued_behind: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ["attributes", "message", "subject", "time_unix_ms", "topic"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    message: str
    subject: str
    time_unix_ms: int
    topic: str
    def __init__(self, topic: _Optional[str] = ..., time_unix_ms: _Optional[int] = ..., subject: _Optional[str] = ..., message: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class HealthResponse(_message.Message):
    __slots__ = ["connections", "fleet_claims", "fleet_degraded_since_unix_ms", "fleet_host_id", "fleet_reason", "fleet_state", "fleet_waits", "image_presence", "inflight_calls", "loop_lag_max_ms", "loop_lag_ms", "pid", "state", "uptime_seconds", "version"]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    FLEET_CLAIMS_FIELD_NUMBER: _ClassVar[int]
    FLEET_DEGRADED_SINCE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    FLEET_HOST_ID_FIELD_NUMBER: _ClassVar[int]
    FLEET_REASON_FIELD_NUMBER: _ClassVar[int]
    FLEET_STATE_FIELD_NUMBER: _ClassVar[int]
    FLEET_WAITS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PRESENCE_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_CALLS_FIELD_NUMBER: _ClassVar[int]
    LOOP_LAG_MAX_MS_FIELD_NUMBER: _ClassVar[int]
    LOOP_LAG_MS_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    connections: int
    fleet_claims: _containers.RepeatedScalarFieldContainer[str]
    fleet_degraded_since_unix_ms: int
    fleet_host_id: str
    fleet_reason: str
    fleet_state: str
    fleet_waits: _containers.RepeatedScalarFieldContainer[str]
    image_presence: str
    inflight_calls: int
    loop_lag_max_ms: float
    loop_lag_ms: float
    pid: int
    state: str
    uptime_seconds: float
    version: str
    def __init__(self, version: _Optional[str] = ..., uptime_seconds: _Optional[float] = ..., connections: _Optional[int] = ..., inflight_calls: _Optional[int] = ..., loop_lag_ms: _Optional[float] = ..., loop_lag_max_ms: _Optional[float] = ..., pid: _Optional[int] = ..., state: _Optional[str] = ..., image_presence: _Optional[str] = ..., fleet_state: _Optional[str] = ..., fleet_host_id: _Optional[str] = ..., fleet_reason: _Optional[str] = ..., fleet_degraded_since_unix_ms: _Optional[int] = ..., fleet_claims: _Optional[_Iterable[str]] = ..., fleet_waits: _Optional[_Iterable[str]] = ...) -> None: ...

class ImageInfo(_message.Message):
    __slots__ = ["backoff_remaining_seconds", "base_image", "keep_warm", "last_error", "last_job_end_unix_ms", "last_job_outcome", "name", "present", "ref", "state"]
    BACKOFF_REMAINING_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BASE_IMAGE_FIELD_NUMBER: _ClassVar[int]
    KEEP_WARM_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_JOB_END_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_JOB_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    backoff_remaining_seconds: float
    base_image: str
    keep_warm: bool
    last_error: str
    last_job_end_unix_ms: int
    last_job_outcome: str
    name: str
    present: bool
    ref: str
    state: str
    def __init__(self, name: _Optional[str] = ..., ref: _Optional[str] = ..., present: bool = ..., base_image: _Optional[str] = ..., keep_warm: bool = ..., state: _Optional[str] = ..., last_job_outcome: _Optional[str] = ..., last_job_end_unix_ms: _Optional[int] = ..., last_error: _Optional[str] = ..., backoff_remaining_seconds: _Optional[float] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ["expires_unix_ms", "holder", "holder_pid", "holder_start_time", "id", "owner_uid", "target"]
    EXPIRES_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    HOLDER_PID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_START_TIME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_UID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    expires_unix_ms: int
    holder: str
    holder_pid: int
    holder_start_time: int
    id: str
    owner_uid: int
    target: str
    def __init__(self, id: _Optional[str] = ..., target: _Optional[str] = ..., holder: _Optional[str] = ..., expires_unix_ms: _Optional[int] = ..., holder_pid: _Optional[int] = ..., holder_start_time: _Optional[int] = ..., owner_uid: _Optional[int] = ...) -> None: ...

class ListImagesRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListImagesResponse(_message.Message):
    __slots__ = ["images", "next_page_token"]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[ImageInfo]
    next_page_token: str
    def __init__(self, images: _Optional[_Iterable[_Union[ImageInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListLeasesRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLeasesResponse(_message.Message):
    __slots__ = ["leases", "next_page_token"]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    leases: _containers.RepeatedCompositeFieldContainer[Lease]
    next_page_token: str
    def __init__(self, leases: _Optional[_Iterable[_Union[Lease, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPoliciesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListPoliciesResponse(_message.Message):
    __slots__ = ["policies"]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[RetryPolicyInfo]
    def __init__(self, policies: _Optional[_Iterable[_Union[RetryPolicyInfo, _Mapping]]] = ...) -> None: ...

class ListRetriesRequest(_message.Message):
    __slots__ = ["key_prefix", "page_size", "page_token", "state"]
    KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    key_prefix: str
    page_size: int
    page_token: str
    state: str
    def __init__(self, state: _Optional[str] = ..., key_prefix: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRetriesResponse(_message.Message):
    __slots__ = ["next_page_token", "retries"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    retries: _containers.RepeatedCompositeFieldContainer[RetryInfo]
    def __init__(self, retries: _Optional[_Iterable[_Union[RetryInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListRulesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListRulesResponse(_message.Message):
    __slots__ = ["rules"]
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[RuleInfo]
    def __init__(self, rules: _Optional[_Iterable[_Union[RuleInfo, _Mapping]]] = ...) -> None: ...

class MetricsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class MetricsResponse(_message.Message):
    __slots__ = ["text"]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class PruneRequest(_message.Message):
    __slots__ = ["dry_run"]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    def __init__(self, dry_run: bool = ...) -> None: ...

class PruneResponse(_message.Message):
    __slots__ = ["bytes_freed", "kept_leased", "removed"]
    BYTES_FREED_FIELD_NUMBER: _ClassVar[int]
    KEPT_LEASED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    bytes_freed: int
    kept_leased: _containers.RepeatedScalarFieldContainer[str]
    removed: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, removed: _Optional[_Iterable[str]] = ..., bytes_freed: _Optional[int] = ..., kept_leased: _Optional[_Iterable[str]] = ...) -> None: ...

class ReleaseLeaseRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ReleaseLeaseResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ReloadRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ReloadResponse(_message.Message):
    __slots__ = ["config_path", "needs_restart"]
    CONFIG_PATH_FIELD_NUMBER: _ClassVar[int]
    NEEDS_RESTART_FIELD_NUMBER: _ClassVar[int]
    config_path: str
    needs_restart: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, config_path: _Optional[str] = ..., needs_restart: _Optional[_Iterable[str]] = ...) -> None: ...

class ReportDbErrorRequest(_message.Message):
    __slots__ = ["client_id", "message", "ok", "path", "sqlite_code"]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SQLITE_CODE_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    message: str
    ok: bool
    path: str
    sqlite_code: int
    def __init__(self, path: _Optional[str] = ..., client_id: _Optional[str] = ..., message: _Optional[str] = ..., sqlite_code: _Optional[int] = ..., ok: bool = ...) -> None: ...

class ReportDbErrorResponse(_message.Message):
    __slots__ = ["action", "remedy", "streak", "threshold", "verdict"]
    class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ACTION_UNSPECIFIED: ReportDbErrorResponse.Action
    CONTINUE: ReportDbErrorResponse.Action
    CORRUPT: ReportDbErrorResponse.Action
    EXIT_TEMPFAIL: ReportDbErrorResponse.Action
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    STREAK_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    action: ReportDbErrorResponse.Action
    remedy: str
    streak: int
    threshold: int
    verdict: DbVerdict
    def __init__(self, action: _Optional[_Union[ReportDbErrorResponse.Action, str]] = ..., streak: _Optional[int] = ..., threshold: _Optional[int] = ..., remedy: _Optional[str] = ..., verdict: _Optional[_Union[DbVerdict, str]] = ...) -> None: ...

class ReserveRetrySlotRequest(_message.Message):
    __slots__ = ["exit_code", "image", "key", "last_error", "policy"]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    image: str
    key: str
    last_error: str
    policy: str
    def __init__(self, key: _Optional[str] = ..., policy: _Optional[str] = ..., last_error: _Optional[str] = ..., exit_code: _Optional[int] = ..., image: _Optional[str] = ...) -> None: ...

class ReserveRetrySlotResponse(_message.Message):
    __slots__ = ["answered_locally", "attempt", "attempts", "category", "decision", "delay_seconds", "first_error", "last_error", "not_before_unix_ms", "remedy", "retry_after_seconds"]
    class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    ANSWERED_LOCALLY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DECISION_UNSPECIFIED: ReserveRetrySlotResponse.Decision
    DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DENIED_PERMANENT: ReserveRetrySlotResponse.Decision
    EXHAUSTED: ReserveRetrySlotResponse.Decision
    FIRST_ERROR_FIELD_NUMBER: _ClassVar[int]
    GRANTED: ReserveRetrySlotResponse.Decision
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    THROTTLED: ReserveRetrySlotResponse.Decision
    answered_locally: bool
    attempt: int
    attempts: int
    category: str
    decision: ReserveRetrySlotResponse.Decision
    delay_seconds: float
    first_error: str
    last_error: str
    not_before_unix_ms: int
    remedy: str
    retry_after_seconds: float
    def __init__(self, decision: _Optional[_Union[ReserveRetrySlotResponse.Decision, str]] = ..., attempt: _Optional[int] = ..., delay_seconds: _Optional[float] = ..., not_before_unix_ms: _Optional[int] = ..., category: _Optional[str] = ..., remedy: _Optional[str] = ..., attempts: _Optional[int] = ..., first_error: _Optional[str] = ..., last_error: _Optional[str] = ..., retry_after_seconds: _Optional[float] = ..., answered_locally: bool = ...) -> None: ...

class ResetRetryRequest(_message.Message):
    __slots__ = ["key"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class ResetRetryResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RetryInfo(_message.Message):
    __slots__ = ["attempts", "category", "first_error", "in_flight", "key", "last_error", "not_before_unix_ms", "owner_uid", "policy", "remedy", "state", "updated_unix_ms"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    FIRST_ERROR_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    OWNER_UID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    category: str
    first_error: str
    in_flight: bool
    key: str
    last_error: str
    not_before_unix_ms: int
    owner_uid: int
    policy: str
    remedy: str
    state: str
    updated_unix_ms: int
    def __init__(self, key: _Optional[str] = ..., policy: _Optional[str] = ..., state: _Optional[str] = ..., attempts: _Optional[int] = ..., first_error: _Optional[str] = ..., last_error: _Optional[str] = ..., updated_unix_ms: _Optional[int] = ..., category: _Optional[str] = ..., remedy: _Optional[str] = ..., not_before_unix_ms: _Optional[int] = ..., in_flight: bool = ..., owner_uid: _Optional[int] = ...) -> None: ...

class RetryPolicyInfo(_message.Message):
    __slots__ = ["base_delay_seconds", "key_idle_expiry_seconds", "max_attempts", "max_delay_seconds", "name"]
    BASE_DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    KEY_IDLE_EXPIRY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    MAX_DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    base_delay_seconds: float
    key_idle_expiry_seconds: float
    max_attempts: int
    max_delay_seconds: float
    name: str
    def __init__(self, name: _Optional[str] = ..., max_attempts: _Optional[int] = ..., base_delay_seconds: _Optional[float] = ..., max_delay_seconds: _Optional[float] = ..., key_idle_expiry_seconds: _Optional[float] = ...) -> None: ...

class RuleInfo(_message.Message):
    __slots__ = ["category", "exit_code", "id", "match", "permanent", "remedy", "retry_after_seconds", "sqlite_codes"]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SQLITE_CODES_FIELD_NUMBER: _ClassVar[int]
    category: str
    exit_code: int
    id: str
    match: _containers.RepeatedScalarFieldContainer[str]
    permanent: bool
    remedy: str
    retry_after_seconds: float
    sqlite_codes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, id: _Optional[str] = ..., match: _Optional[_Iterable[str]] = ..., exit_code: _Optional[int] = ..., sqlite_codes: _Optional[_Iterable[int]] = ..., category: _Optional[str] = ..., permanent: bool = ..., retry_after_seconds: _Optional[float] = ..., remedy: _Optional[str] = ...) -> None: ...

class ScrubFinding(_message.Message):
    __slots__ = ["damage", "ref", "repair"]
    DAMAGE_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    REPAIR_FIELD_NUMBER: _ClassVar[int]
    damage: str
    ref: str
    repair: str
    def __init__(self, ref: _Optional[str] = ..., damage: _Optional[str] = ..., repair: _Optional[str] = ...) -> None: ...

class ScrubRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ScrubResponse(_message.Message):
    __slots__ = ["blobs", "bytes", "damaged", "images", "seconds", "skipped_blobs"]
    BLOBS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_BLOBS_FIELD_NUMBER: _ClassVar[int]
    blobs: int
    bytes: int
    damaged: _containers.RepeatedCompositeFieldContainer[ScrubFinding]
    images: int
    seconds: float
    skipped_blobs: int
    def __init__(self, images: _Optional[int] = ..., blobs: _Optional[int] = ..., bytes: _Optional[int] = ..., seconds: _Optional[float] = ..., damaged: _Optional[_Iterable[_Union[ScrubFinding, _Mapping]]] = ..., skipped_blobs: _Optional[int] = ...) -> None: ...

class SleepRequest(_message.Message):
    __slots__ = ["milliseconds"]
    MILLISECONDS_FIELD_NUMBER: _ClassVar[int]
    milliseconds: int
    def __init__(self, milliseconds: _Optional[int] = ...) -> None: ...

class SleepResponse(_message.Message):
    __slots__ = ["slept_seconds"]
    SLEPT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    slept_seconds: float
    def __init__(self, slept_seconds: _Optional[float] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ["topics"]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    topics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, topics: _Optional[_Iterable[str]] = ...) -> None: ...

class DbVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
