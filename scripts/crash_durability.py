"""kill -9 durability of the retry ledger, CYCLES times (scripts/crash-durability.sh).

Each cycle starts sidecard on the state of the one before, checks that every grant a client
ever saw answered is in ListRetries (each key's attempts at least the highest attempt
acknowledged), then drives ReserveRetrySlot from several connections at once, records every
GRANTED answer as it arrives, and kills the daemon with SIGKILL at a random moment. A grant is
durable before it is answered (sidecar.proto), so none may be lost.

Usage: crash_durability.py SIDECARD CYCLES [--synchronous normal|full] [--max-seconds N]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Dict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
from sidecar_client import AsyncClient, Decision, SidecarError  # noqa: E402

CONNECTIONS = 4
KEYS_PER_CONNECTION = 4  # calls in flight on each connection, one key each
KILL_AFTER = (0.02, 0.5)  # seconds of grants before the kill, drawn per cycle

CONFIG = """\
[retry]
synchronous = "{synchronous}"
budget_percent = 100            # never throttled: every answer is a grant
min_retry_concurrency = 1000000
[retry.policy.default]
max_attempts = 1000000
base_delay = "0"
max_delay = "0"
"""


class Daemon:
    def __init__(self, sidecard: str, directory: str) -> None:
        self.sidecard = sidecard
        self.socket_path = os.path.join(directory, "sidecar.sock")
        self.arguments = ["--config", os.path.join(directory, "sidecar.toml"), "--socket", self.socket_path,
                          "--state-dir", os.path.join(directory, "state")]
        self.log_path = os.path.join(directory, "sidecard.log")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen([self.sidecard, *self.arguments], stdout=log, stderr=log)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(35)


async def lost_grants(daemon: Daemon, acknowledged: Dict[str, int]) -> int:
    """Acknowledged grants the restarted daemon does not have; waits until it answers."""
    async with AsyncClient(daemon.socket_path, connect_retry_seconds=15) as client:
        stored = {record.key: record.attempts for record in await client.list_retries(timeout=15)}
    lost = 0
    for key, highest in acknowledged.items():
        if stored.get(key, 0) < highest:
            print(f"LOST: {key}: acknowledged attempt {highest}, stored {stored.get(key, 0)}", file=sys.stderr)
            lost += highest - stored.get(key, 0)
    return lost


async def grant_until_killed(daemon: Daemon, cycle: int, acknowledged: Dict[str, int]) -> int:
    """Reserves on every key until the daemon is killed; answers how many grants were seen."""
    seen = 0
    first_grant = asyncio.Event()

    async def reserve_forever(client: AsyncClient, key: str) -> None:
        nonlocal seen
        while True:
            answer = await client.reserve_retry_slot(key, "connection reset by peer", timeout=10)
            if answer.decision != Decision.GRANTED:
                raise RuntimeError(f"{key}: {answer}")
            # Recorded only once answered: this is what the client was promised.
            acknowledged[key] = max(acknowledged.get(key, 0), answer.attempt)
            seen += 1
            first_grant.set()

    clients = [AsyncClient(daemon.socket_path, f"crash-{index}") for index in range(CONNECTIONS)]
    calls = [asyncio.ensure_future(reserve_forever(client, f"c{cycle}/conn{index}/key{key}"))
             for index, client in enumerate(clients) for key in range(KEYS_PER_CONNECTION)]
    await asyncio.wait_for(first_grant.wait(), 15)
    await asyncio.sleep(random.uniform(*KILL_AFTER))
    daemon.kill()
    for outcome in await asyncio.gather(*calls, return_exceptions=True):
        # Every call ends on the lost connection (UNAVAILABLE); anything else is a failure.
        if not (isinstance(outcome, SidecarError) and outcome.unreachable):
            raise RuntimeError(f"a call ended with {outcome!r}, not the lost connection")
    for client in clients:
        await client.close()
    return seen


async def run(arguments: argparse.Namespace) -> int:
    directory = tempfile.mkdtemp(prefix="sccrash-", dir="/tmp")  # short: a socket path holds 107 bytes
    with open(os.path.join(directory, "sidecar.toml"), "w") as config:
        config.write(CONFIG.format(synchronous=arguments.synchronous))
    daemon = Daemon(arguments.sidecard, directory)
    acknowledged: Dict[str, int] = {}
    started = time.monotonic()
    cycles = grants = lost = 0
    try:
        daemon.start()
        while cycles < arguments.cycles and time.monotonic() - started < arguments.max_seconds:
            grants += await grant_until_killed(daemon, cycles, acknowledged)
            cycles += 1
            daemon.start()
            lost += await lost_grants(daemon, acknowledged)
    except BaseException:
        print(f"crash-durability: failed in cycle {cycles}; state and log kept in {directory}", file=sys.stderr)
        raise
    finally:
        daemon.stop()
    elapsed = time.monotonic() - started
    print(f"crash-durability: cycles {cycles}, grants acknowledged {grants}, grants lost {lost}, "
          f"keys {len(acknowledged)}, synchronous {arguments.synchronous}, time {elapsed:.1f} s")
    if lost or cycles < arguments.cycles:
        if cycles < arguments.cycles:
            print(f"crash-durability: stopped at the time bound ({arguments.max_seconds} s)", file=sys.stderr)
        print(f"crash-durability: state and log kept in {directory}", file=sys.stderr)
        return 1
    shutil.rmtree(directory, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sidecard")
    parser.add_argument("cycles", type=int)
    parser.add_argument("--synchronous", choices=["normal", "full"], default="normal")
    parser.add_argument("--max-seconds", type=float, default=1800)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
