"""`pip install ./clients/python` into a fresh virtual environment, without
the network (protobuf and setuptools from Debian), then a smoke test of the
installed package against a real daemon."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import PACKAGE_ROOT

SMOKE = r"""
import asyncio, os, sys
import sidecar_client
from sidecar_client import AsyncClient, Client, Outcome, SidecarError, StatusCode
assert sidecar_client.__file__.startswith(sys.prefix), sidecar_client.__file__
here = os.path.dirname(sidecar_client.__file__)
assert os.path.exists(os.path.join(here, "py.typed"))
with Client(sys.argv[1], client_name="smoke") as client:
    pid = client.health().pid
    assert client.classify(exit_code=125).category == "container_runtime"
    assert client.ensure_image("sync-app", timeout=30).outcome is Outcome.BUILT
async def main():
    async with AsyncClient(sys.argv[1]) as client:
        return [h.pid for h in await asyncio.gather(client.health(), client.health())]
assert asyncio.run(main()) == [pid, pid]
try:
    Client(sys.argv[1] + ".none", connect_retry_seconds=0).health()
except SidecarError as error:
    assert error.code is StatusCode.UNAVAILABLE
print("smoke", pid)
"""


def test_pip_install_into_a_fresh_venv_then_smoke(daemon, tmp_short):
    source = shutil.copytree(PACKAGE_ROOT, os.path.join(tmp_short, "src"),
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache"))
    venv = os.path.join(tmp_short, "venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True, timeout=120)
    python = os.path.join(venv, "bin", "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps", "--no-index", source],
        capture_output=True, text=True, timeout=120,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    smoke = subprocess.run([python, "-c", SMOKE, daemon.socket_path], capture_output=True, text=True,
                           timeout=60, cwd=tmp_short, env=env)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.split() == ["smoke", str(daemon.pid)]
    assert daemon.builds("sync-app") == 1
