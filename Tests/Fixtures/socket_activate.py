#!/usr/bin/env python3
"""Starts a program the way systemd socket activation does: binds and
listens on SOCKET, hands it over as fd 3 with LISTEN_PID and LISTEN_FDS set,
and execs the program (same pid).

Usage: socket_activate.py SOCKET PROGRAM [ARGS...]
"""
import os
import socket
import sys

path, program, arguments = sys.argv[1], sys.argv[2], sys.argv[2:]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
os.chmod(path, 0o660)
listener.listen(128)
os.dup2(listener.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
os.execv(program, arguments)
