"""AsyncClient: the asyncio face. One connection per client, shared by every
call in flight, answers matched by call id."""
from __future__ import annotations

import asyncio
import select
import time
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Sequence, Union

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

_END = object()  # the end of a stream, in its queue


class _Stream:
    """A streaming call's messages, as they arrive."""

    def __init__(self) -> None:
        self.queue: "asyncio.Queue[Any]" = asyncio.Queue()

    def fail(self, error: BaseException) -> None:
        self.queue.put_nowait(error)


_Pending = Union["asyncio.Future[bytes]", _Stream]


def _fail(pending: _Pending, error: BaseException) -> None:
    if isinstance(pending, _Stream):
        pending.fail(error)
    elif not pending.done():
        pending.set_exception(error)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, socket_name: str, client_name: str):
        self.reader = reader
        self.writer = writer
        self.session = Session(socket_name)
        self.pending: Dict[int, _Pending] = {}
        self.closed: Optional[SidecarError] = None
        self._loop = asyncio.get_running_loop()
        # Frames written in one turn of the loop go out in one send.
        self._out: List[bytes] = []
        self._write(self.session.hello(client_name))
        self.task = self._loop.create_task(self._read_loop())

    def _write(self, frame: bytes) -> None:
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(frame)

    def _flush(self) -> None:
        data = b"".join(self._out)
        self._out.clear()
        if self.closed is not None:
            return
        try:
            self.writer.write(data)
        except Exception as error:  # the transport is gone; the reader fails the calls
            self._close(self.session.closed_error(f"connection lost while sending: {error}"))

    def start(self, method: str, payload: bytes, milliseconds: int, pending: _Pending) -> int:
        if self.closed is not None:
            raise self.closed
        call_id, frame = self.session.call(method, payload, milliseconds)
        self.pending[call_id] = pending
        self._write(frame)
        return call_id

    def forget(self, call_id: int, error: Optional[SidecarError], send_cancel: bool) -> None:
        """Stops waiting for `call_id` (failing it with `error`), and asks
        the server to stop it."""
        pending = self.pending.pop(call_id, None)
        if pending is None:
            return
        if error is not None:
            _fail(pending, error)
        if send_cancel and self.closed is None:
            self._write(self.session.cancel(call_id))

    async def _read_loop(self) -> None:
        ending = self.session.closed_error()
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                for frame in self.session.receive(data):
                    pending = self.pending.get(frame.call_id)
                    if pending is None:
                        continue  # a call we stopped waiting for
                    if frame.kind == REPLY:
                        del self.pending[frame.call_id]
                        if isinstance(pending, _Stream):
                            pending.queue.put_nowait(_END if not frame.status_code else _reply_error(frame))
                        elif not pending.done():
                            if frame.status_code:
                                pending.set_exception(_reply_error(frame))
                            else:
                                pending.set_result(frame.payload)
                    elif frame.kind == STREAM_MESSAGE and isinstance(pending, _Stream):
                        pending.queue.put_nowait(frame.payload)
        except SidecarError as error:  # GOAWAY, or a broken stream
            ending = error
        except asyncio.CancelledError:
            ending = SidecarError(StatusCode.CANCELLED, "the client was closed")
        except OSError as error:
            ending = self.session.closed_error(error.strerror or str(error))
        finally:
            self._close(ending)

    def _close(self, error: SidecarError) -> None:
        if self.closed is None:
            self.closed = error
        orphans = list(self.pending.values())
        self.pending.clear()
        for pending in orphans:
            _fail(pending, self.closed)
        try:
            self.writer.close()
        except Exception:
            pass

    async def aclose(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except BaseException:
            pass


def _reply_error(frame: Any) -> SidecarError:
    try:
        payload_of(frame)
    except SidecarError as error:
        return error
    raise AssertionError("not a failed reply")


def _readable(connection: _Connection) -> bool:
    sock = connection.writer.get_extra_info("socket")
    try:
        return sock is None or bool(select.select([sock.fileno()], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class AsyncWatch:
    """The events of a Watch call: `async for event in client.watch(...)`.

    The call starts on the first iteration, or with `await watch.start()`.
    It ends (StopAsyncIteration) when the daemon ends it with OK; a deadline,
    a shutdown or a lost connection raise SidecarError. `aclose()` (or
    leaving `async with`, or cancelling the task that iterates) sends CANCEL.
    """

    def __init__(self, client: "AsyncClient", call: api.Call, timeout: Optional[float]) -> None:
        self._client = client
        self._call = call
        self._milliseconds = timeout_ms(timeout)
        self._stream: Optional[_Stream] = None
        self._connection: Optional[_Connection] = None
        self._call_id = 0
        self._timer: Optional[asyncio.TimerHandle] = None
        self._finished = False

    async def start(self) -> "AsyncWatch":
        if self._stream is not None:
            return self
        connection = await self._client._connect()
        stream = _Stream()
        self._call_id = connection.start(self._call.method, self._call.payload, self._milliseconds, stream)
        self._stream, self._connection = stream, connection
        grace = local_deadline(self._milliseconds)
        if grace is not None:
            self._timer = asyncio.get_running_loop().call_later(grace, self._expire)
        return self

    def _expire(self) -> None:
        if self._connection is not None:
            self._connection.forget(
                self._call_id,
                SidecarError(StatusCode.DEADLINE_EXCEEDED, f"no end of the stream within {self._milliseconds} ms"),
                send_cancel=True,
            )

    def __aiter__(self) -> "AsyncWatch":
        return self

    async def __anext__(self) -> t.Event:
        if self._finished:
            raise StopAsyncIteration
        await self.start()
        assert self._stream is not None
        try:
            item = await self._stream.queue.get()
        except asyncio.CancelledError:
            await self.aclose()
            raise
        if item is _END:
            self._end()
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._end()
            raise item
        return self._call.decode(item)

    def _end(self) -> None:
        self._finished = True
        if self._timer is not None:
            self._timer.cancel()

    async def aclose(self) -> None:
        if not self._finished and self._connection is not None:
            self._connection.forget(self._call_id, None, send_cancel=True)
        self._end()

    async def __aenter__(self) -> "AsyncWatch":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class AsyncClient:
    """The asyncio client of sidecard.

    Calls may run concurrently (tasks, `asyncio.gather`): they share one
    connection and are answered out of order. Each takes `timeout=` in
    seconds: it goes to the daemon as the call's deadline, and the client
    gives up on its own a second later. A cancelled call sends CANCEL. A
    lost connection fails the calls in flight with UNAVAILABLE; the next
    call connects again.
    """

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
        self._opening: Optional["asyncio.Future[_Connection]"] = None

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

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connection (calls in flight fail); a later call opens a new one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection._close(SidecarError(StatusCode.CANCELLED, "the client was closed"))
            await connection.aclose()

    # ------------------------------------------------------------ plumbing

    async def _connect(self) -> _Connection:
        connection = self._connection
        if connection is not None and connection._loop is not asyncio.get_running_loop():
            # Made by an earlier event loop (a second asyncio.run): unusable here.
            self._connection = connection = None
        if connection is not None and connection.closed is None:
            if connection.pending or not _readable(connection):
                return connection
            # Idle, yet something came: the daemon may have closed it while
            # the loop did not run (a restart between two calls). Let the
            # reader take it in, so the call goes to a new connection.
            for _ in range(50):
                await asyncio.sleep(0)
                if connection.closed is not None or not _readable(connection):
                    break
            if connection.closed is None:
                return connection
        if self._opening is not None:
            return await asyncio.shield(self._opening)
        loop = asyncio.get_running_loop()
        self._opening = loop.create_future()
        try:
            connection = await self._open()
        except BaseException as error:
            opening, self._opening = self._opening, None
            if isinstance(error, Exception):
                opening.set_exception(error)
                opening.exception()  # retrieved: nobody else may be waiting
            else:
                opening.cancel()
            raise
        self._connection = connection
        opening, self._opening = self._opening, None
        opening.set_result(connection)
        return connection

    async def _open(self) -> _Connection:
        path, name = resolve_socket(self._explicit_socket)
        deadline = time.monotonic() + self.connect_retry_seconds
        pause = 0.01
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(path)
                return _Connection(reader, writer, name, self.client_name)
            except OSError as error:
                retry = classify_connect_error(error)
                if not retry.transient or time.monotonic() + pause >= deadline:
                    raise SidecarError.unreachable_at(name, retry.reason) from None
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    async def call(self, method: str, payload: bytes = b"", *, timeout: Optional[float] = None) -> bytes:
        """Calls `method` (its wire name) with an encoded request; the
        encoded response. For methods this class does not wrap."""
        connection = await self._connect()
        milliseconds = timeout_ms(timeout)
        future: "asyncio.Future[bytes]" = asyncio.get_running_loop().create_future()
        call_id = connection.start(method, payload, milliseconds, future)
        timer = None
        grace = local_deadline(milliseconds)
        if grace is not None:
            timer = asyncio.get_running_loop().call_later(
                grace,
                connection.forget,
                call_id,
                SidecarError(
                    StatusCode.DEADLINE_EXCEEDED,
                    f"no answer within {milliseconds} ms (the daemon did not enforce the deadline)",
                ),
                True,
            )
        try:
            return await future
        except asyncio.CancelledError:
            connection.forget(call_id, None, send_cancel=True)
            raise
        finally:
            if timer is not None:
                timer.cancel()

    async def _unary(self, call: api.Call, timeout: Optional[float]) -> Any:
        return call.decode(await self.call(call.method, call.payload, timeout=timeout))

    async def _pages(self, page: Callable[[str], api.Call], timeout: Optional[float]) -> AsyncIterator[Any]:
        """The items of every page, each page asked for (with `timeout`)
        when the one before it is used up."""
        token = ""
        while True:
            items, token = await self._unary(page(token), timeout)
            for item in items:
                yield item
            if not token:
                return

    # ------------------------------------------------------------ methods

    async def health(self, *, timeout: Optional[float] = None) -> t.HealthResponse:
        """Liveness and load of the daemon."""
        return await self._unary(api.health(), timeout)

    async def ensure_image(
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
        return await self._unary(api.ensure_image(image, lease_holder, lease_ttl_seconds, lease_holder_pid), timeout)

    async def list_images(self, *, timeout: Optional[float] = None) -> List[t.ImageInfo]:
        """Every image the daemon knows, by name (every page; `timeout` is each page's)."""
        return [image async for image in self.iter_images(timeout=timeout)]

    def iter_images(self, *, page_size: Optional[int] = None, timeout: Optional[float] = None) -> AsyncIterator[t.ImageInfo]:
        """The images, by name, a page (`page_size` items at most; daemon's default 1,000) at a time."""
        return self._pages(lambda token: api.list_images(page_size, token), timeout)

    async def acquire_lease(
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
        return await self._unary(api.acquire_lease(target, holder, ttl_seconds, holder_pid), timeout)

    async def release_lease(self, lease_id: str, *, timeout: Optional[float] = None) -> None:
        await self._unary(api.release_lease(lease_id), timeout)

    async def list_leases(self, *, timeout: Optional[float] = None) -> List[t.Lease]:
        """Every lease held now (a caller not an admin: its own), by id (every page)."""
        return [lease async for lease in self.iter_leases(timeout=timeout)]

    def iter_leases(self, *, page_size: Optional[int] = None, timeout: Optional[float] = None) -> AsyncIterator[t.Lease]:
        """The leases, by id, a page at a time."""
        return self._pages(lambda token: api.list_leases(page_size, token), timeout)

    async def check_db(
        self, path: str, *, full: bool = False, max_errors: Optional[int] = None, timeout: Optional[float] = None
    ) -> t.CheckDbResponse:
        return await self._unary(api.check_db(path, full, max_errors), timeout)

    async def report_db_error(
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
        return await self._unary(api.report_db_error(path, client_id, message, sqlite_code, ok), timeout)

    async def reserve_retry_slot(
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
        return await self._unary(api.reserve_retry_slot(key, last_error, policy, exit_code, image), timeout)

    async def complete_attempt(
        self, key: str, success: bool, error: Optional[str] = None, *, timeout: Optional[float] = None
    ) -> None:
        await self._unary(api.complete_attempt(key, success, error), timeout)

    async def list_retries(
        self, *, state: Optional[str] = None, key_prefix: Optional[str] = None, timeout: Optional[float] = None
    ) -> List[t.RetryInfo]:
        """Every retry key tracked (a caller not an admin: its own), by key (every page)."""
        return [retry async for retry in self.iter_retries(state=state, key_prefix=key_prefix, timeout=timeout)]

    def iter_retries(
        self,
        *,
        state: Optional[str] = None,
        key_prefix: Optional[str] = None,
        page_size: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> AsyncIterator[t.RetryInfo]:
        """The retry keys, by key, a page at a time."""
        return self._pages(lambda token: api.list_retries(state, key_prefix, page_size, token), timeout)

    async def list_policies(self, *, timeout: Optional[float] = None) -> List[t.RetryPolicyInfo]:
        return await self._unary(api.list_policies(), timeout)

    async def reset_retry(self, key: str, *, timeout: Optional[float] = None) -> None:
        """Admin."""
        await self._unary(api.reset_retry(key), timeout)

    async def classify(
        self,
        message: Optional[str] = None,
        *,
        exit_code: Optional[int] = None,
        sqlite_code: Optional[int] = None,
        image: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> t.ClassifyResponse:
        """`image`: the reference the failed operation used; the remedy names it."""
        return await self._unary(api.classify(message, exit_code, sqlite_code, image), timeout)

    async def list_rules(self, *, timeout: Optional[float] = None) -> List[t.RuleInfo]:
        """The classification rules in matching order: config ones, then built-in."""
        return await self._unary(api.list_rules(), timeout)

    async def prune(self, *, dry_run: bool = False, timeout: Optional[float] = None) -> t.PruneResponse:
        """Admin."""
        return await self._unary(api.prune(dry_run), timeout)

    async def scrub(self, *, timeout: Optional[float] = None) -> t.ScrubResponse:
        """Admin: re-hashes every blob of every present image (OCI layout
        backend) and repairs what it finds damaged; returns when done."""
        return await self._unary(api.scrub(), timeout)

    async def metrics(self, *, timeout: Optional[float] = None) -> str:
        """The Prometheus text."""
        return await self._unary(api.metrics(), timeout)

    async def reload(self, *, timeout: Optional[float] = None) -> t.ReloadResponse:
        """Admin."""
        return await self._unary(api.reload(), timeout)

    async def debug_sleep(self, milliseconds: int, *, timeout: Optional[float] = None) -> t.SleepResponse:
        """Debug.Sleep: answers after `milliseconds` (daemons with debug_methods = true)."""
        return await self._unary(api.debug_sleep(milliseconds), timeout)

    def watch(self, prefixes: Sequence[str] = (), *, timeout: Optional[float] = None) -> AsyncWatch:
        """Events whose topic starts with one of `prefixes` (all when empty)."""
        return AsyncWatch(self, api.watch(prefixes), timeout)
