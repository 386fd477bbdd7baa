"""The Python client of sidecard, the Sidecar daemon.

    from sidecar_client import Client, AsyncClient, SidecarError

`Client` blocks; `AsyncClient` is for asyncio. Both speak the protocol of
proto/sidecar/v1/README.md through one framing implementation
(`sidecar_client._protocol`). See README.md beside this package.
"""
from ._async import AsyncClient, AsyncWatch
from ._errors import ErrorDetail, ServerInfo, SidecarError, StatusCode
from ._process import process_start_time
from ._protocol import default_socket_path
from ._sync import Client, Watch
from ._types import (
    Action,
    CheckDbResponse,
    ClassifyResponse,
    Decision,
    DbVerdict,
    EnsureImageResponse,
    Event,
    HealthResponse,
    ImageInfo,
    Lease,
    Outcome,
    PruneResponse,
    ScrubFinding,
    ScrubResponse,
    ReloadResponse,
    ReportDbErrorResponse,
    ReserveRetrySlotResponse,
    RetryInfo,
    RetryPolicyInfo,
    RuleInfo,
    SleepResponse,
)

__version__ = "0.1.0"

__all__ = [
    "Action", "AsyncClient", "AsyncWatch", "CheckDbResponse", "ClassifyResponse", "Client", "DbVerdict",
    "Decision", "EnsureImageResponse", "ErrorDetail", "Event", "HealthResponse", "ImageInfo", "Lease", "Outcome",
    "PruneResponse", "ReloadResponse", "ReportDbErrorResponse", "ReserveRetrySlotResponse", "RetryInfo",
    "RetryPolicyInfo", "RuleInfo", "ScrubFinding", "ScrubResponse", "ServerInfo", "SidecarError", "SleepResponse", "StatusCode",
    "Watch", "default_socket_path", "process_start_time",
]
