#!/usr/bin/env python3
"""Real SQLite files for the database tests, made with Python's sqlite3.

  sqlite_fixture.py healthy PATH ROWS [--wal]   a table of ROWS rows of ~1 KB
  sqlite_fixture.py lock PATH                   holds an EXCLUSIVE lock, prints
                                                "locked", waits until killed
  sqlite_fixture.py wal-with-frames PATH        a WAL database whose -wal file
                                                holds committed frames (no checkpoint)
"""
import sqlite3
import sys
import time


def healthy(path, rows, wal):
    connection = sqlite3.connect(path)
    if wal:
        connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, body BLOB)")
    connection.execute("CREATE INDEX items_name ON items(name)")
    connection.execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) "
        "INSERT INTO items SELECT x, 'item-' || x, randomblob(1000) FROM n",
        (rows,),
    )
    connection.commit()
    connection.close()


def lock(path):
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    connection.execute("UPDATE items SET name = name WHERE id = 1")
    print("locked", flush=True)
    while True:
        time.sleep(1)


def wal_with_frames(path):
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, body BLOB)")
    connection.execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200) "
        "INSERT INTO items SELECT x, randomblob(500) FROM n"
    )
    connection.commit()
    # Leave the -wal file in place: exit without closing (no checkpoint).
    sys.stdout.flush()
    import os
    os._exit(0)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "healthy":
        healthy(sys.argv[2], int(sys.argv[3]), "--wal" in sys.argv)
    elif command == "lock":
        lock(sys.argv[2])
    elif command == "wal-with-frames":
        wal_with_frames(sys.argv[2])
    else:
        sys.exit(f"unknown command {command}")
