"""Status codes and the error every failed call raises."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional


class StatusCode(enum.IntEnum):
    """The gRPC status codes, as the daemon sends them."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def of(cls, value: int) -> "StatusCode":
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class ErrorDetail:
    """What a failed answer says beside its code (ErrorDetail on the wire)."""

    category: str
    permanent: bool
    remedy: str
    retry_after_seconds: float


@dataclass(frozen=True)
class ServerInfo:
    """What the daemon said in its HELLO_ACK on the current connection."""

    server_version: str
    max_message_bytes: int
    max_inflight_calls: int


class SidecarError(Exception):
    """A call that did not end OK: a status code, a message, maybe a detail.

    `unreachable` is true when the daemon could not be reached at all (no
    socket, refused, connection lost before an answer); `code` is then
    UNAVAILABLE and the message names the socket.
    """

    def __init__(
        self,
        code: StatusCode,
        message: str = "",
        detail: Optional[ErrorDetail] = None,
        *,
        unreachable: bool = False,
    ) -> None:
        self.code = StatusCode.of(int(code))
        self.message = message
        self.detail = detail
        self.unreachable = unreachable
        super().__init__(f"{self.code.name}: {message}" if message else self.code.name)

    def __repr__(self) -> str:
        return f"SidecarError({self.code.name}, {self.message!r}, detail={self.detail!r})"

    @classmethod
    def unreachable_at(cls, socket_path: str, reason: str) -> "SidecarError":
        return cls(StatusCode.UNAVAILABLE, f"cannot reach sidecard at {socket_path}: {reason}", unreachable=True)
