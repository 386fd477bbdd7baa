"""A real sidecard per test, on a socket in a temp folder of its own.

The binary is the repository's debug build (.build/debug/sidecard, which
scripts/test.sh builds first), or $SIDECARD. Images use the command backend
over Tests/Fixtures/image_store.sh: an image is a file in the store folder.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Callable, List, Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
IMAGE_STORE = os.path.join(REPO, "Tests", "Fixtures", "image_store.sh")
SQLITE_FIXTURE = os.path.join(REPO, "Tests", "Fixtures", "sqlite_fixture.py")
SIDECARD = os.environ.get("SIDECARD") or os.path.join(REPO, ".build", "debug", "sidecard")

# The package from this checkout, unless a test asks for an installed one.
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

#: Images every test daemon knows; each test uses its own, so that a failed
#: build's back-off never leaks into another test.
IMAGES = ["app", "crowd", "slow", "broken", "leased", "prunable", "sync-app"]
STREAK_THRESHOLD = 3


def eventually(condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> object:
    """Polls `condition` until it is truthy; fails the test if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


class Daemon:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.socket_path = os.path.join(directory, "sidecar.sock")
        self.state_dir = os.path.join(directory, "state")
        self.store = os.path.join(directory, "store")
        self.data = os.path.join(directory, "data")
        self.config_path = os.path.join(directory, "sidecar.toml")
        self.log_path = os.path.join(directory, "sidecard.log")
        os.makedirs(self.store)
        os.makedirs(self.data)
        self.process: Optional[subprocess.Popen] = None
        self.write_config()

    def write_config(self, extra: str = "") -> None:
        lines = [
            "debug_methods = true",
            "[databases]",
            f'roots = ["{self.data}"]',
            f"streak_threshold = {STREAK_THRESHOLD}",
            "[retry.policy.provision]",
            "max_attempts = 3",
            'base_delay = "10s"',
            'max_delay = "2m"',
            "[images]",
            'backend = "command"',
            'failure_backoff = "30s"',
            "[images.command]",
            f'exists = ["{IMAGE_STORE}", "exists", "{self.store}", "{{name}}"]',
            f'remove = ["{IMAGE_STORE}", "remove", "{self.store}", "{{name}}"]',
            "pull = []",
        ]
        for name in IMAGES:
            lines += [
                "[[images.image]]",
                f'name = "{name}"',
                f'ref = "localhost/{name}:latest"',
                f'build = ["{IMAGE_STORE}", "build", "{self.store}", "{name}"]',
            ]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)

    def start(self) -> "Daemon":
        if not os.access(SIDECARD, os.X_OK):
            pytest.fail(f"no sidecard at {SIDECARD}: run `swift build` first (scripts/test.sh does)")
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [SIDECARD, "--config", self.config_path, "--socket", self.socket_path, "--state-dir", self.state_dir],
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"sidecard exited with {self.process.returncode}:\n{self.log()}")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(self.socket_path)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"sidecard did not answer on {self.socket_path}:\n{self.log()}")
                time.sleep(0.01)
            finally:
                probe.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: the daemon dies without a GOAWAY."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> int:
        """SIGTERM: drain, GOAWAY, exit."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(35)

    def restart(self) -> "Daemon":
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    # The image store (Tests/Fixtures/image_store.sh).
    def builds(self, name: str) -> int:
        try:
            with open(os.path.join(self.store, "builds.log")) as f:
                return sum(1 for line in f if line.strip() == f"start {name}")
        except FileNotFoundError:
            return 0

    def flag(self, name: str, flag: str, content: str = "") -> None:
        with open(os.path.join(self.store, f"{name}.{flag}"), "w") as f:
            f.write(content)

    def present(self, name: str) -> bool:
        return os.path.exists(os.path.join(self.store, name))

    # Databases (Tests/Fixtures/sqlite_fixture.py).
    def database(self, name: str, rows: int = 2000) -> str:
        path = os.path.join(self.data, name)
        subprocess.run([sys.executable, SQLITE_FIXTURE, "healthy", path, str(rows)], check=True)
        return path


def damage(path: str, page: int = 20, pages: int = 1, page_size: int = 4096) -> None:
    """Overwrites b-tree pages with garbage, as DatabaseTests.swift does."""
    with open(path, "r+b") as f:
        f.seek(page_size * page)
        f.write(os.urandom(page_size * pages))


@pytest.fixture
def tmp_short() -> str:
    # Short: a Unix socket path holds 107 bytes at most.
    directory = tempfile.mkdtemp(prefix="scpy-", dir="/tmp")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def daemon(tmp_short: str) -> Daemon:
    d = Daemon(tmp_short).start()
    yield d
    d.kill()
    if d.process is not None:
        d.process.wait(10)
