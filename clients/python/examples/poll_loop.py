#!/usr/bin/env python3
"""Seed 001's poll loop: a runner polls its SQLite inbox and, instead of
failing with `database disk image is malformed` for ever, reports each
error to sidecard and does what it answers.

  CONTINUE       keep polling (below the streak threshold);
  EXIT_TEMPFAIL  the host's file is fine, our view of it is torn (a stale
                 mount): exit 75 so that the supervisor respawns us with a
                 fresh one;
  CORRUPT        the file is really damaged: respawning will not help; stop
                 (exit 65) with the daemon's remedy.

Usage:
  poll_loop.py --db VIEW [--host-path PATH] [--client ID] [--socket SOCK]
               [--interval SECONDS] [--polls N]

VIEW is the file as this runner opens it (inside a container: through its
mount); --host-path is the same file as the daemon sees it on the host
(default: VIEW). --polls stops after N good polls (exit 0); without it the
loop runs until told otherwise.
"""
from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import sys
import time
from typing import Optional

from sidecar_client import Action, Client, SidecarError

EX_OK, EX_DATAERR, EX_UNAVAILABLE, EX_TEMPFAIL = 0, 65, 69, 75


def poll(view: str) -> int:
    """One poll of the inbox: reads every row, as a runner's scan does."""
    connection = sqlite3.connect(f"file:{view}?mode=ro", uri=True)
    try:
        (rows,) = connection.execute("SELECT count(*) FROM items WHERE length(body) >= 0").fetchone()
        return rows
    finally:
        connection.close()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--host-path")
    parser.add_argument("--client", default=os.environ.get("HOSTNAME") or socket.gethostname())
    parser.add_argument("--socket")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--polls", type=int)
    args = parser.parse_args(argv)
    host_path = os.path.abspath(args.host_path or args.db)

    good = 0
    failing = False
    with Client(args.socket, client_name="poll-loop") as sidecar:
        while args.polls is None or good < args.polls:
            try:
                rows = poll(args.db)
            except sqlite3.DatabaseError as error:
                failing = True
                try:
                    answer = sidecar.report_db_error(
                        host_path, args.client, str(error), sqlite_code=getattr(error, "sqlite_errorcode", None), timeout=10
                    )
                except SidecarError as unreachable:
                    print(f"poll-loop: {error}; and sidecard cannot help: {unreachable}", file=sys.stderr)
                    return EX_UNAVAILABLE if unreachable.unreachable else EX_TEMPFAIL
                print(f"poll-loop: {error} ({answer.streak}/{answer.threshold}): {answer.action.name}", file=sys.stderr)
                if answer.action == Action.EXIT_TEMPFAIL:
                    print(f"poll-loop: {answer.remedy}", file=sys.stderr)
                    return EX_TEMPFAIL
                if answer.action == Action.CORRUPT:
                    print(f"poll-loop: {host_path} is corrupt: {answer.remedy}", file=sys.stderr)
                    return EX_DATAERR
            else:
                good += 1
                print(f"poll-loop: {rows} rows", flush=True)
                if failing:  # a success ends the streak
                    sidecar.report_db_error(host_path, args.client, ok=True, timeout=10)
                    failing = False
            time.sleep(args.interval)
    return EX_OK


if __name__ == "__main__":
    sys.exit(main())
