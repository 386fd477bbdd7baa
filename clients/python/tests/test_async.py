"""AsyncClient: concurrency on one connection, cancellation, Watch."""
from __future__ import annotations

import asyncio
import re
import time

import pytest

import sidecar_client as sc
from test_methods import NEVER_PULL


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


async def until(condition, timeout=5.0):
    """Awaits `condition()` until it is truthy, polling; fails if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


def calls(metrics: str, method: str, code: str) -> int:
    found = re.search(rf'^sidecar_calls_total{{method="{re.escape(method)}",code="{code}"}} (\d+)$', metrics, re.M)
    return int(found.group(1)) if found else 0


def test_concurrent_calls_share_one_connection_and_are_answered_out_of_order(daemon):
    async def main():
        async with sc.AsyncClient(daemon.socket_path) as client:
            finished = []

            async def sleep(ms):
                await client.debug_sleep(ms)
                finished.append(ms)

            async def health():
                answer = await client.health()
                finished.append("health")
                return answer

            results = await asyncio.gather(sleep(400), sleep(200), sleep(10), health())
            assert finished == ["health", 10, 200, 400]  # sent first, answered last
            assert results[3].connections == 1 and results[3].inflight_calls == 4
    run(main())


def test_a_cancelled_task_sends_cancel_and_the_daemon_answers_cancelled(daemon):
    async def main():
        async with sc.AsyncClient(daemon.socket_path) as client:
            task = asyncio.ensure_future(client.debug_sleep(30_000))
            await until(lambda: _inflight(client, 2))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The daemon stopped the call (CANCELLED) rather than sleeping 30 s.
            await until(lambda: _cancelled(client))
            assert (await client.health()).inflight_calls == 1
    run(main())


async def _inflight(client, count):
    return (await client.health()).inflight_calls == count


async def _cancelled(client):
    return calls(await client.metrics(), "Debug.Sleep", "CANCELLED") == 1


def test_200_concurrent_ensure_image_calls_run_one_build(daemon):
    daemon.flag("crowd", "delay", "0.5")

    async def main():
        async with sc.AsyncClient(daemon.socket_path) as client:
            answers = await asyncio.gather(*[client.ensure_image("crowd", timeout=30) for _ in range(200)])
            health = await client.health()
        assert len(answers) == 200
        assert {a.outcome for a in answers} == {sc.Outcome.BUILT}
        assert sum(not a.coalesced for a in answers) == 1
        assert health.connections == 1
    run(main())
    assert daemon.builds("crowd") == 1 and daemon.present("crowd")


def test_watch_receives_retry_and_image_events(daemon):
    async def main():
        async with sc.AsyncClient(daemon.socket_path) as client:
            async with client.watch(["retry.denied", "image.job."]) as events:
                denied = await client.reserve_retry_slot("provision:task-9", NEVER_PULL)
                assert denied.decision is sc.Decision.DENIED_PERMANENT
                event = await asyncio.wait_for(events.__anext__(), 5)
                assert (event.topic, event.subject) == ("retry.denied", "provision:task-9")
                assert event.attributes.get("category") == "image_missing" and event.time_unix_ms > 0
                await client.ensure_image("app", timeout=30)
                topics = []
                async for event in events:
                    if event.topic == "image.job.progress":  # the build's output lines, between the two
                        continue
                    topics.append((event.topic, event.subject))
                    if event.topic != "image.job.started":
                        break
                assert topics == [("image.job.started", "app"), ("image.job.finished", "app")]
            # Leaving `async with` cancelled it: nothing is in flight but this call.
            await until(lambda: _inflight(client, 1))
    run(main())


def test_watch_ends_with_its_deadline(daemon):
    async def main():
        async with sc.AsyncClient(daemon.socket_path) as client:
            start = time.monotonic()
            with pytest.raises(sc.SidecarError) as raised:
                async for _ in client.watch(["nothing."], timeout=0.2):
                    pass
            assert raised.value.code == sc.StatusCode.DEADLINE_EXCEEDED
            assert time.monotonic() - start < 1.0
    run(main())


def test_the_blocking_watch_receives_events_on_its_own_connection(daemon):
    with sc.Client(daemon.socket_path) as client:
        with client.watch(["retry."]) as events:
            client.reserve_retry_slot("provision:task-10", NEVER_PULL)
            event = next(events)
            assert (event.topic, event.subject) == ("retry.denied", "provision:task-10")
            assert client.health().connections == 2
        with pytest.raises(sc.SidecarError) as raised:
            for _ in client.watch(timeout=0.1):
                pass
        assert raised.value.code == sc.StatusCode.DEADLINE_EXCEEDED


def test_one_client_serves_one_event_loop_after_another(daemon):
    client = sc.AsyncClient(daemon.socket_path)
    first = asyncio.run(client.health())
    second = asyncio.run(client.health())  # the first loop, and its connection, are gone
    assert first.pid == second.pid == daemon.pid
    assert second.connections == 1
    asyncio.run(client.close())
