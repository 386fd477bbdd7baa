"""examples/poll_loop.py, seed 001's poll loop, against real SQLite files."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import PACKAGE_ROOT, STREAK_THRESHOLD, damage

EXAMPLE = os.path.join(PACKAGE_ROOT, "examples", "poll_loop.py")


def run_loop(daemon, view, host_path=None, *extra):
    command = [sys.executable, EXAMPLE, "--db", view, "--client", "runner-7", "--socket", daemon.socket_path,
               "--interval", "0"]
    if host_path:
        command += ["--host-path", host_path]
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    return subprocess.run(command + list(extra), capture_output=True, text=True, timeout=60, env=env)


def test_a_healthy_inbox_is_polled(daemon):
    inbox = daemon.database("inbound.db", rows=150)
    result = run_loop(daemon, inbox, None, "--polls", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["poll-loop: 150 rows"] * 3


def test_a_torn_view_of_a_healthy_file_exits_75(daemon, tmp_short):
    host = daemon.database("inbound.db")
    # The runner's view (a stale mount) is damaged; the host's file is not.
    os.makedirs(os.path.join(tmp_short, "mnt"))
    view = shutil.copy(host, os.path.join(tmp_short, "mnt", "inbound.db"))
    damage(view, pages=10)
    result = run_loop(daemon, view, host)
    assert result.returncode == 75, result.stderr
    reports = [line for line in result.stderr.splitlines() if "malformed" in line]
    assert len(reports) == STREAK_THRESHOLD
    assert reports[-1].endswith(f"({STREAK_THRESHOLD}/{STREAK_THRESHOLD}): EXIT_TEMPFAIL")
    assert "Exit 75" in result.stderr


def test_a_really_corrupt_file_stops_with_the_remedy(daemon):
    inbox = daemon.database("inbound.db")
    damage(inbox, pages=10)
    result = run_loop(daemon, inbox)
    assert result.returncode == 65, result.stderr
    assert f"{inbox} is corrupt" in result.stderr and ".recover" in result.stderr
    assert result.stderr.count(": CONTINUE") == STREAK_THRESHOLD - 1
