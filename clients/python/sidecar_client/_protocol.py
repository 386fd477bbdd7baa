"""The framing of proto/sidecar/v1/README.md, without any I/O.

Both faces (AsyncClient over asyncio streams, Client over a blocking socket)
feed the bytes they read into a `Session` and write the bytes it makes; the
session numbers the calls, decodes frames, and turns failed REPLYs and
GOAWAYs into SidecarError. Nothing else in the package knows the framing.
"""
from __future__ import annotations

import math
import os
import struct
from typing import List, NamedTuple, Optional, Tuple

from ._errors import ErrorDetail, ServerInfo, SidecarError, StatusCode
from ._proto import wire_pb2

PROTOCOL_VERSION = wire_pb2.PROTOCOL_VERSION_1
DEFAULT_CLIENT_NAME = "python-client"
#: How long connecting keeps retrying while the socket is missing or refuses
#: (a daemon that is starting), as the Swift client and sidecarctl do.
DEFAULT_CONNECT_RETRY_SECONDS = 1.5
#: The daemon enforces a call's deadline; the client gives up on its own
#: this much later (a stopped or wedged daemon), so no call waits for ever.
LOCAL_DEADLINE_GRACE_SECONDS = 1.0
#: Answers larger than this are a broken stream, not a message.
MAX_INCOMING_BYTES = 256 * 1024 * 1024
ROOT_SOCKET = "/run/sidecar/sidecar.sock"

_LENGTH = struct.Struct(">I")
_CALL = wire_pb2.ClientFrame.CALL
_CANCEL = wire_pb2.ClientFrame.CANCEL
_HELLO = wire_pb2.ClientFrame.HELLO
HELLO_ACK = wire_pb2.ServerFrame.HELLO_ACK
STREAM_MESSAGE = wire_pb2.ServerFrame.STREAM_MESSAGE
REPLY = wire_pb2.ServerFrame.REPLY
GOAWAY = wire_pb2.ServerFrame.GOAWAY


def default_socket_path() -> Tuple[str, List[str]]:
    """The socket every client uses by default, and the paths looked at.

    `$SIDECAR_SOCKET`; else /run/sidecar/sidecar.sock when it exists; else
    `$XDG_RUNTIME_DIR/sidecar.sock` (or /tmp/sidecar-UID/sidecar.sock when
    XDG_RUNTIME_DIR is unset, as the daemon does).
    """
    explicit = os.environ.get("SIDECAR_SOCKET")
    if explicit:
        return explicit, [explicit]
    if os.path.exists(ROOT_SOCKET):
        return ROOT_SOCKET, [ROOT_SOCKET]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    fallback = runtime + "/sidecar.sock" if runtime else f"/tmp/sidecar-{os.geteuid()}/sidecar.sock"
    return fallback, [ROOT_SOCKET, fallback]


def resolve_socket(explicit: Optional[str]) -> Tuple[str, str]:
    """The path to connect to and how to name it in an error."""
    if explicit:
        return explicit, explicit
    path, tried = default_socket_path()
    if len(tried) == 1:
        return path, path
    return path, f"{path} ({tried[0]} does not exist; $SIDECAR_SOCKET is not set)"


def timeout_ms(timeout: Optional[float]) -> int:
    """A call's `timeout=` in seconds as the wire's timeout_ms (0: none)."""
    if timeout is None:
        return 0
    if timeout != timeout or timeout < 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return max(1, min(math.ceil(timeout * 1000), 0xFFFFFFFF))


def local_deadline(milliseconds: int) -> Optional[float]:
    """Seconds after which the client stops waiting on its own, or None."""
    return milliseconds / 1000 + LOCAL_DEADLINE_GRACE_SECONDS if milliseconds else None


def _frame(message: wire_pb2.ClientFrame) -> bytes:
    body = message.SerializeToString()
    return _LENGTH.pack(len(body)) + body


def error_of_reply(frame: wire_pb2.ServerFrame) -> SidecarError:
    """The SidecarError of a REPLY whose status is not OK."""
    detail = None
    if frame.payload:
        try:
            parsed = wire_pb2.ErrorDetail.FromString(frame.payload)
            detail = ErrorDetail(parsed.category, parsed.permanent, parsed.remedy, parsed.retry_after_seconds)
        except Exception:  # a payload that is not an ErrorDetail says nothing more
            detail = None
    return SidecarError(StatusCode.of(frame.status_code), frame.status_message, detail)


class Session:
    """One connection's protocol state: call ids, the server's HELLO_ACK,
    and the frames read so far but not yet whole."""

    def __init__(self, socket_name: str) -> None:
        self.socket_name = socket_name
        self._next_call_id = 1
        self._buffer = bytearray()
        self.server_version = ""
        self.max_message_bytes = 4 * 1024 * 1024
        self.max_inflight_calls = 256
        #: Set once the HELLO_ACK is read.
        self.server_info: Optional[ServerInfo] = None

    def hello(self, client_name: str) -> bytes:
        return _frame(wire_pb2.ClientFrame(kind=_HELLO, call_id=0, protocol_version=PROTOCOL_VERSION, client_name=client_name))

    def call(self, method: str, payload: bytes, milliseconds: int) -> Tuple[int, bytes]:
        """A new call id and the CALL frame to write for it."""
        if len(payload) > self.max_message_bytes - 64:
            raise SidecarError(
                StatusCode.RESOURCE_EXHAUSTED,
                f"request of {len(payload)} bytes exceeds the daemon's limit of {self.max_message_bytes} bytes",
            )
        call_id = self._next_call_id
        self._next_call_id += 1
        return call_id, _frame(
            wire_pb2.ClientFrame(kind=_CALL, call_id=call_id, method=method, timeout_ms=milliseconds, payload=payload)
        )

    @staticmethod
    def cancel(call_id: int) -> bytes:
        return _frame(wire_pb2.ClientFrame(kind=_CANCEL, call_id=call_id))

    def receive(self, data: bytes) -> List[wire_pb2.ServerFrame]:
        """The whole frames `data` completes. HELLO_ACK is taken in here;
        a GOAWAY raises the SidecarError that ends the connection."""
        buffer = self._buffer
        buffer += data
        frames: List[wire_pb2.ServerFrame] = []
        start = 0
        end = len(buffer)
        while end - start >= 4:
            (length,) = _LENGTH.unpack_from(buffer, start)
            if length > MAX_INCOMING_BYTES:
                raise SidecarError(StatusCode.INTERNAL, f"the daemon sent a frame of {length} bytes")
            if end - start - 4 < length:
                break
            frame = wire_pb2.ServerFrame()
            try:
                frame.ParseFromString(bytes(buffer[start + 4 : start + 4 + length]))
            except Exception as error:
                raise SidecarError(StatusCode.INTERNAL, f"the daemon sent a malformed frame: {error}") from None
            start += 4 + length
            kind = frame.kind
            if kind == HELLO_ACK:
                self.server_version = frame.server_version
                if frame.max_message_bytes:
                    self.max_message_bytes = frame.max_message_bytes
                if frame.max_inflight_calls:
                    self.max_inflight_calls = frame.max_inflight_calls
                self.server_info = ServerInfo(self.server_version, self.max_message_bytes, self.max_inflight_calls)
            elif kind == GOAWAY:
                del buffer[:start]
                raise self.goaway_error(frame)
            else:
                frames.append(frame)
        if start:
            del buffer[:start]
        return frames

    def goaway_error(self, frame: wire_pb2.ServerFrame) -> SidecarError:
        code = StatusCode.of(frame.status_code)
        reason = f"{code.name}: {frame.status_message}" if frame.status_message else code.name
        return SidecarError(
            StatusCode.UNAVAILABLE,
            f"sidecard at {self.socket_name} closed the connection (GOAWAY {reason})",
            unreachable=True,
        )

    def closed_error(self, reason: str = "the daemon closed the connection") -> SidecarError:
        return SidecarError.unreachable_at(self.socket_name, reason)


def payload_of(frame: wire_pb2.ServerFrame) -> bytes:
    """A REPLY's response payload, or its error raised."""
    if frame.status_code:
        raise error_of_reply(frame)
    return frame.payload


class Retry(NamedTuple):
    """Whether an OSError from connect() may pass once the daemon is up."""

    transient: bool
    reason: str


def classify_connect_error(error: OSError) -> Retry:
    import errno

    transient = error.errno in (errno.ENOENT, errno.ECONNREFUSED, errno.EAGAIN)
    return Retry(transient, error.strerror or str(error))
