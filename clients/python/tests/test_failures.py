"""Lost daemons, restarts, GOAWAY: calls fail with UNAVAILABLE, never hang,
and the next call connects again."""
from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
import time

import pytest

import sidecar_client as sc
from conftest import eventually
from sidecar_client._proto import wire_pb2
from test_methods import Blocking


def make(face, path, **kwargs):
    if face == "Client":
        return sc.Client(path, **kwargs)
    return Blocking(sc.AsyncClient(path, **kwargs))


FACES = ["Client", "AsyncClient"]


@pytest.mark.parametrize("face", FACES)
def test_no_daemon_is_unavailable_naming_the_socket(face, tmp_short):
    path = os.path.join(tmp_short, "nobody.sock")
    client = make(face, path, connect_retry_seconds=0.2)
    start = time.monotonic()
    with pytest.raises(sc.SidecarError) as raised:
        client.health()
    assert time.monotonic() - start < 2
    assert raised.value.code == sc.StatusCode.UNAVAILABLE and raised.value.unreachable
    assert path in raised.value.message and "No such file" in raised.value.message


@pytest.mark.parametrize("face", FACES)
def test_the_default_socket_names_every_path_tried(face, tmp_short, monkeypatch):
    if os.path.exists("/run/sidecar/sidecar.sock"):
        pytest.skip("a real sidecard serves /run/sidecar/sidecar.sock here")
    monkeypatch.delenv("SIDECAR_SOCKET", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", tmp_short)
    with pytest.raises(sc.SidecarError) as raised:
        make(face, None, connect_retry_seconds=0).health()
    assert f"{tmp_short}/sidecar.sock" in raised.value.message and "/run/sidecar/sidecar.sock" in raised.value.message


@pytest.mark.parametrize("face", FACES)
def test_sidecar_socket_chooses_the_daemon(face, daemon, monkeypatch):
    monkeypatch.setenv("SIDECAR_SOCKET", daemon.socket_path)
    client = make(face, None)
    assert client.health().pid == daemon.pid
    client.close()


@pytest.mark.parametrize("face", FACES)
def test_a_restarted_daemon_is_reached_by_the_next_call(face, daemon):
    client = make(face, daemon.socket_path, connect_retry_seconds=5)
    first = client.health().pid
    daemon.restart()
    assert daemon.pid != first
    assert client.health().pid == daemon.pid
    client.close()


@pytest.mark.parametrize("face", FACES)
def test_a_daemon_killed_during_a_call_fails_it_unavailable_then_the_next_call_reconnects(face, daemon):
    client = make(face, daemon.socket_path, connect_retry_seconds=5)
    observer = sc.Client(daemon.socket_path)
    outcome = {}

    def sleeper():
        try:
            client.debug_sleep(60_000)
        except sc.SidecarError as error:
            outcome["error"] = error

    thread = threading.Thread(target=sleeper, daemon=True)
    thread.start()
    eventually(lambda: observer.health().inflight_calls == 2)
    daemon.kill()
    thread.join(5)
    assert not thread.is_alive(), "the call hangs after the daemon died"
    error = outcome["error"]
    assert error.code == sc.StatusCode.UNAVAILABLE and daemon.socket_path in error.message
    daemon.start()
    assert client.health().pid == daemon.pid
    client.close()
    observer.close()


class GoAwayServer:
    """A fake daemon: its first connection answers a call with GOAWAY
    while the call is in flight; later connections answer Health."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn, self.connections), daemon=True).start()

    @staticmethod
    def _read(conn):
        header = b""
        while len(header) < 4:
            chunk = conn.recv(4 - len(header))
            if not chunk:
                return None
            header += chunk
        (length,) = struct.unpack(">I", header)
        body = b""
        while len(body) < length:
            body += conn.recv(length - len(body))
        return wire_pb2.ClientFrame.FromString(body)

    @staticmethod
    def _send(conn, **fields):
        body = wire_pb2.ServerFrame(**fields).SerializeToString()
        conn.sendall(struct.pack(">I", len(body)) + body)

    def _talk(self, conn, number) -> None:
        with conn:
            while True:
                frame = self._read(conn)
                if frame is None:
                    return
                if frame.kind == wire_pb2.ClientFrame.HELLO:
                    self._send(conn, kind=wire_pb2.ServerFrame.HELLO_ACK, protocol_version=1, server_version="fake")
                elif frame.kind == wire_pb2.ClientFrame.CALL and number == 1:
                    self._send(conn, kind=wire_pb2.ServerFrame.GOAWAY, status_code=14, status_message="shutting down")
                    return
                elif frame.kind == wire_pb2.ClientFrame.CALL:
                    from sidecar_client._proto import sidecar_pb2

                    self._send(conn, kind=wire_pb2.ServerFrame.REPLY, call_id=frame.call_id,
                               payload=sidecar_pb2.HealthResponse(state="fake", pid=4242).SerializeToString())

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("face", FACES)
def test_goaway_fails_the_calls_in_flight_unavailable_and_the_next_call_reconnects(face, tmp_short):
    server = GoAwayServer(os.path.join(tmp_short, "fake.sock"))
    client = make(face, server.path)
    try:
        with pytest.raises(sc.SidecarError) as raised:
            client.health(timeout=5)
        assert raised.value.code == sc.StatusCode.UNAVAILABLE
        assert "GOAWAY UNAVAILABLE: shutting down" in raised.value.message
        assert client.health(timeout=5).pid == 4242
        assert server.connections == 2
    finally:
        client.close()
        server.close()


def test_shutdown_ends_a_watch_unavailable(daemon):
    async def main():
        async with sc.AsyncClient(daemon.socket_path) as client:
            events = await client.watch().start()
            await client.health()  # the watch is registered before this answer
            daemon.process.send_signal(15)
            with pytest.raises(sc.SidecarError) as raised:
                await asyncio.wait_for(events.__anext__(), 10)
            assert raised.value.code == sc.StatusCode.UNAVAILABLE
    asyncio.run(main())
    assert daemon.process.wait(35) == 0
