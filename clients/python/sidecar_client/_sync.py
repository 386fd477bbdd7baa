"""Client: the blocking face, for scripts and hooks. A plain socket, the
same Session (framing) as AsyncClient, one call at a time per client
(threads take turns); a watch gets a connection of its own."""
from __future__ import annotations

import collections
import select
import socket
import threading
import time
from typing import Any, Callable, Deque, Iterator, List, Optional, Sequence

from . import _api as api
from . import _types as t
from ._errors import ServerInfo, SidecarError, StatusCode
from ._protocol import (
    DEFAULT_CLIENT_NAME,
    DEFAULT_CONNECT_RETRY_SECONDS,
    REPLY,
    STREAM_MESSAGE,
    Session,
    classify_connect_error,
    local_deadline,
    payload_of,
    resolve_socket,
    timeout_ms,
)
from ._proto import wire_pb2


class _LocalDeadline(Exception):
    pass


class _Connection:
    def __init__(self, sock: socket.socket, socket_name: str, client_name: str) -> None:
        self.sock = sock
        self.session = Session(socket_name)
        self.frames: Deque[wire_pb2.ServerFrame] = collections.deque()
        self.closed: Optional[SidecarError] = None
        self._timeout: Optional[float] = None
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN)
        self.send(self.session.hello(client_name))

    def usable(self) -> bool:
        """False once the daemon closed this connection, even if nobody
        read that yet (a daemon restarted between two calls): then the next
        call opens a new connection instead of failing on this one."""
        if self.closed is None and self._poller.poll(0):
            try:
                data = self.sock.recv(65536)
                if data:
                    self.frames.extend(self.session.receive(data))  # late answers, dropped later
                else:
                    self.close(self.session.closed_error())
            except SidecarError as error:  # GOAWAY
                self.close(error)
            except OSError as error:
                self.close(self.session.closed_error(error.strerror or str(error)))
        return self.closed is None

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as error:
            self.close(self.session.closed_error(f"connection lost while sending: {error.strerror or error}"))
            raise self.closed  # type: ignore[misc]

    def next_frame(self, deadline: Optional[float]) -> wire_pb2.ServerFrame:
        """The next frame that is not HELLO_ACK; raises the connection's end."""
        frames = self.frames
        while not frames:
            if self.closed is not None:
                raise self.closed
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise _LocalDeadline()
            if timeout != self._timeout:
                self.sock.settimeout(timeout)
                self._timeout = timeout
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise _LocalDeadline() from None
            except OSError as error:
                self.close(self.session.closed_error(error.strerror or str(error)))
                raise self.closed  # type: ignore[misc]
            if not data:
                self.close(self.session.closed_error())
                raise self.closed  # type: ignore[misc]
            try:
                frames.extend(self.session.receive(data))
            except SidecarError as error:  # GOAWAY, or a broken stream
                self.close(error)
                raise
        return frames.popleft()

    def start(self, call: api.Call, milliseconds: int) -> int:
        if self.closed is not None:
            raise self.closed
        call_id, frame = self.session.call(call.method, call.payload, milliseconds)
        self.send(frame)
        return call_id

    def cancel(self, call_id: int) -> None:
        if self.closed is None:
            try:
                self.sock.sendall(self.session.cancel(call_id))
            except OSError:
                pass

    def unary(self, call: api.Call, timeout: Optional[float]) -> bytes:
        milliseconds = timeout_ms(timeout)
        call_id = self.start(call, milliseconds)
        grace = local_deadline(milliseconds)
        deadline = None if grace is None else time.monotonic() + grace
        try:
            while True:
                frame = self.next_frame(deadline)
                if frame.call_id == call_id and frame.kind == REPLY:
                    return payload_of(frame)
                # Anything else answers a call this client stopped waiting for.
        except _LocalDeadline:
            self.cancel(call_id)
            raise SidecarError(
                StatusCode.DEADLINE_EXCEEDED,
                f"no answer within {milliseconds} ms (the daemon did not enforce the deadline)",
            ) from None
        except (KeyboardInterrupt, SystemExit):
            self.cancel(call_id)
            raise

    def close(self, error: Optional[SidecarError] = None) -> None:
        if self.closed is None:
            self.closed = error or SidecarError(StatusCode.CANCELLED, "the client was closed")
        try:
            self.sock.close()
        except OSError:
            pass


def _connect(explicit: Optional[str], client_name: str, retry_seconds: float) -> _Connection:
    path, name = resolve_socket(explicit)
    deadline = time.monotonic() + retry_seconds
    pause = 0.01
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return _Connection(sock, name, client_name)
        except OSError as error:
            sock.close()
            retry = classify_connect_error(error)
            if not retry.transient or time.monotonic() + pause >= deadline:
                raise SidecarError.unreachable_at(name, retry.reason) from None
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class Watch:
    """The events of a Watch call, on a connection of its own:
    `for event in client.watch(...)`. Starts on the first iteration or
    `start()`; `close()` (or leaving `with`) sends CANCEL and closes it."""

    def __init__(self, client: "Client", call: api.Call, timeout: Optional[float]) -> None:
        self._client = client
        self._call = call
        self._milliseconds = timeout_ms(timeout)
        self._connection: Optional[_Connection] = None
        self._call_id = 0
        self._deadline: Optional[float] = None
        self._finished = False

    def start(self) -> "Watch":
        if self._connection is None:
            c = self._client
            self._connection = _connect(c._explicit_socket, c.client_name, c.connect_retry_seconds)
            self._call_id = self._connection.start(self._call, self._milliseconds)
            grace = local_deadline(self._milliseconds)
            self._deadline = None if grace is None else time.monotonic() + grace
        return self

    def __iter__(self) -> Iterator[t.Event]:
        return self

    def __next__(self) -> t.Event:
        if self._finished:
            raise StopIteration
        connection = self.start()._connection
        assert connection is not None
        try:
            while True:
                frame = connection.next_frame(self._deadline)
                if frame.call_id != self._call_id:
                    continue
                if frame.kind == STREAM_MESSAGE:
                    return self._call.decode(frame.payload)
                if frame.kind == REPLY:
                    self._finish()
                    payload_of(frame)  # raises unless OK
                    raise StopIteration
        except _LocalDeadline:
            self.close()
            raise SidecarError(
                StatusCode.DEADLINE_EXCEEDED, f"no end of the stream within {self._milliseconds} ms"
            ) from None
        except SidecarError:
            self._finish()
            raise
        except (KeyboardInterrupt, SystemExit):
            self.close()
            raise

    def _finish(self) -> None:
        self._finished = True
        if self._connection is not None:
            self._connection.close()

    def close(self) -> None:
        if self._connection is not None and not self._finished:
            self._connection.cancel(self._call_id)
        self._finish()

    def __enter__(self) -> "Watch":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Client:
    """The blocking client of sidecard: the methods of AsyncClient, each
    returning its answer or raising SidecarError. Thread-safe (calls from
    several threads take turns on the one connection)."""

    def __init__(
        self,
        socket_path: Optional[str] = None,
        client_name: Optional[str] = None,
        *,
        connect_retry_seconds: float = DEFAULT_CONNECT_RETRY_SECONDS,
    ) -> None:
        self._explicit_socket = socket_path
        self.client_name = client_name or DEFAULT_CLIENT_NAME
        self.connect_retry_seconds = connect_retry_seconds
        self._connection: Optional[_Connection] = None
        self._lock = threading.Lock()

    @property
    def socket_path(self) -> str:
        """The socket the next connection goes to."""
        return resolve_socket(self._explicit_socket)[0]

    @property
    def server_info(self) -> Optional[ServerInfo]:
        """The daemon's HELLO_ACK on the current connection (version, limits);
        None until the first answer on it has been read."""
        connection = self._connection
        return connection.session.server_info if connection is not None else None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection; a later call opens a new one."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def call(self, method: str, payload: bytes = b"", *, timeout: Optional[float] = None) -> bytes:
        """Calls `method` (its wire name) with an encoded request; the
        encoded response. For methods this class does not wrap."""
        return self._raw(api.Call(method, payload, bytes), timeout)

    def _raw(self, call: api.Call, timeout: Optional[float]) -> bytes:
        with self._lock:
            connection = self._connection
            if connection is None or not connection.usable():
                connection = self._connection = _connect(
                    self._explicit_socket, self.client_name, self.connect_retry_seconds
                )
            return connection.unary(call, timeout)

    def _unary(self, call: api.Call, timeout: Optional[float]) -> Any:
        return call.decode(self._raw(call, timeout))

    def _pages(self, page: Callable[[str], api.Call], timeout: Optional[float]) -> Iterator[Any]:
        """The items of every page, each page asked for (with `timeout`)
        when the one before it is used up."""
        token = ""
        while True:
            items, token = self._unary(page(token), timeout)
            yield from items
            if not token:
                return

    # ------------------------------------------------------------ methods

    def health(self, *, timeout: Optional[float] = None) -> t.HealthResponse:
        """Liveness and load of the daemon."""
        return self._unary(api.health(), timeout)

    def ensure_image(
        self,
        image: str,
        *,
        lease_holder: Optional[str] = None,
        lease_ttl_seconds: Optional[int] = None,
        lease_holder_pid: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> t.EnsureImageResponse:
        """Makes sure an image is present: one build or pull however many ask.
        With `lease_holder_pid` the lease ends when that process does."""
        return self._unary(api.ensure_image(image, lease_holder, lease_ttl_seconds, lease_holder_pid), timeout)

    def list_images(self, *, timeout: Optional[float] = None) -> List[t.ImageInfo]:
        """Every image the daemon knows, by name (every page; `timeout` is each page's)."""
        return list(self.iter_images(timeout=timeout))

    def iter_images(self, *, page_size: Optional[int] = None, timeout: Optional[float] = None) -> Iterator[t.ImageInfo]:
        """The images, by name, a page (`page_size` items at most; daemon's default 1,000) at a time."""
        return self._pages(lambda token: api.list_images(page_size, token), timeout)

    def acquire_lease(
        self,
        target: str,
        holder: str,
        ttl_seconds: Optional[int] = None,
        *,
        holder_pid: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> t.Lease:
        """Takes or renews a lease (600 s by default); with `holder_pid` it
        ends when that process does, and without a ttl lasts as long."""
        return self._unary(api.acquire_lease(target, holder, ttl_seconds, holder_pid), timeout)

    def release_lease(self, lease_id: str, *, timeout: Optional[float] = None) -> None:
        self._unary(api.release_lease(lease_id), timeout)

    def list_leases(self, *, timeout: Optional[float] = None) -> List[t.Lease]:
        """Every lease held now (a caller not an admin: its own), by id (every page)."""
        return list(self.iter_leases(timeout=timeout))

    def iter_leases(self, *, page_size: Optional[int] = None, timeout: Optional[float] = None) -> Iterator[t.Lease]:
        """The leases, by id, a page at a time."""
        return self._pages(lambda token: api.list_leases(page_size, token), timeout)

    def check_db(
        self, path: str, *, full: bool = False, max_errors: Optional[int] = None, timeout: Optional[float] = None
    ) -> t.CheckDbResponse:
        return self._unary(api.check_db(path, full, max_errors), timeout)

    def report_db_error(
        self,
        path: str,
        client_id: str,
        message: Optional[str] = None,
        *,
        sqlite_code: Optional[int] = None,
        ok: bool = False,
        timeout: Optional[float] = None,
    ) -> t.ReportDbErrorResponse:
        """Not safe to repeat blindly: each report counts toward the streak."""
        return self._unary(api.report_db_error(path, client_id, message, sqlite_code, ok), timeout)

    def reserve_retry_slot(
        self,
        key: str,
        last_error: str,
        *,
        policy: Optional[str] = None,
        exit_code: Optional[int] = None,
        image: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> t.ReserveRetrySlotResponse:
        """Not safe to repeat blindly: a repeated request may take a second slot. `image`: the
        reference the operation used; a denial's remedy names it."""
        return self._unary(api.reserve_retry_slot(key, last_error, policy, exit_code, image), timeout)

    def complete_attempt(self, key: str, success: bool, error: Optional[str] = None, *, timeout: Optional[float] = None) -> None:
        self._unary(api.complete_attempt(key, success, error), timeout)

    def list_retries(
        self, *, state: Optional[str] = None, key_prefix: Optional[str] = None, timeout: Optional[float] = None
    ) -> List[t.RetryInfo]:
        """Every retry key tracked (a caller not an admin: its own), by key (every page)."""
        return list(self.iter_retries(state=state, key_prefix=key_prefix, timeout=timeout))

    def iter_retries(
        self,
        *,
        state: Optional[str] = None,
        key_prefix: Optional[str] = None,
        page_size: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> Iterator[t.RetryInfo]:
        """The retry keys, by key, a page at a time."""
        return self._pages(lambda token: api.list_retries(state, key_prefix, page_size, token), timeout)

    def list_policies(self, *, timeout: Optional[float] = None) -> List[t.RetryPolicyInfo]:
        return self._unary(api.list_policies(), timeout)

    def reset_retry(self, key: str, *, timeout: Optional[float] = None) -> None:
        """Admin."""
        self._unary(api.reset_retry(key), timeout)

    def classify(
        self,
        message: Optional[str] = None,
        *,
        exit_code: Optional[int] = None,
        sqlite_code: Optional[int] = None,
        image: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> t.ClassifyResponse:
        """`image`: the reference the failed operation used; the remedy names it."""
        return self._unary(api.classify(message, exit_code, sqlite_code, image), timeout)

    def list_rules(self, *, timeout: Optional[float] = None) -> List[t.RuleInfo]:
        """The classification rules in matching order: config ones, then built-in."""
        return self._unary(api.list_rules(), timeout)

    def prune(self, *, dry_run: bool = False, timeout: Optional[float] = None) -> t.PruneResponse:
        """Admin."""
        return self._unary(api.prune(dry_run), timeout)

    def scrub(self, *, timeout: Optional[float] = None) -> t.ScrubResponse:
        """Admin: re-hashes every blob of every present image (OCI layout
        backend) and repairs what it finds damaged; returns when done."""
        return self._unary(api.scrub(), timeout)

    def metrics(self, *, timeout: Optional[float] = None) -> str:
        """The Prometheus text."""
        return self._unary(api.metrics(), timeout)

    def reload(self, *, timeout: Optional[float] = None) -> t.ReloadResponse:
        """Admin."""
        return self._unary(api.reload(), timeout)

    def debug_sleep(self, milliseconds: int, *, timeout: Optional[float] = None) -> t.SleepResponse:
        """Debug.Sleep: answers after `milliseconds` (daemons with debug_methods = true)."""
        return self._unary(api.debug_sleep(milliseconds), timeout)

    def watch(self, prefixes: Sequence[str] = (), *, timeout: Optional[float] = None) -> Watch:
        """Events whose topic starts with one of `prefixes` (all when empty)."""
        return Watch(self, api.watch(prefixes), timeout)
