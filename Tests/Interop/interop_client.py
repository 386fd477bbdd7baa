#!/usr/bin/env python3
"""The Python client package (clients/python, `sidecar_client`) against a
real daemon: its framing was written from proto/sidecar/v1/README.md alone,
with Google's protobuf package and the code protoc generates from proto/.

Usage: interop_client.py SOCKET_PATH
Calls Health and two Classify pipelined on one connection (AsyncClient),
and prints one JSON line with what it got. Exits non-zero on any protocol
surprise.
"""
import asyncio
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

from sidecar_client import AsyncClient  # noqa: E402


async def ask(socket_path):
    async with AsyncClient(socket_path, client_name="python-interop") as client:
        # Pipelined: the three calls go out before any answer is read.
        health, verdict, by_exit = await asyncio.gather(
            client.health(timeout=10),
            client.classify(
                'Container image "optio-node:latest" is not present with pull policy of Never',
                image="optio-node:latest",
                timeout=10,
            ),
            client.classify(exit_code=125, timeout=10),
        )
        return client.server_info, health, verdict, by_exit


def main():
    server, health, verdict, by_exit = asyncio.run(ask(sys.argv[1]))
    if server is None:
        raise RuntimeError("no HELLO_ACK before the answers")
    print(json.dumps({
        "server_version": server.server_version,
        "max_message_bytes": server.max_message_bytes,
        "health_state": health.state,
        "health_pid": health.pid,
        "category": verdict.category,
        "permanent": verdict.permanent,
        "remedy": verdict.remedy,
        "exit_125_category": by_exit.category,
    }))


if __name__ == "__main__":
    main()
