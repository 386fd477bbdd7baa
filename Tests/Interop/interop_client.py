#!/usr/bin/env python3
"""A Sidecar client written only from proto/sidecar/v1/README.md, with
Google's protobuf package: proves the framing document is enough.

Usage: interop_client.py SOCKET_PATH
Generates Python code from proto/ with protoc into a temp dir, calls Health
and Classify, and prints one JSON line with what it got. Exits non-zero on
any protocol surprise.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_DIR = os.path.join(ROOT, "proto", "sidecar", "v1")


def load_schema():
    out = tempfile.mkdtemp(prefix="sidecar-py-")
    subprocess.run(
        ["protoc", f"--proto_path={PROTO_DIR}", f"--python_out={out}", "wire.proto", "sidecar.proto"],
        check=True,
    )
    sys.path.insert(0, out)
    import sidecar_pb2  # noqa: E402
    import wire_pb2  # noqa: E402

    return wire_pb2, sidecar_pb2


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise RuntimeError("the daemon closed the connection")
        data += chunk
    return data


def main():
    socket_path = sys.argv[1]
    wire, api = load_schema()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(socket_path)

    def send(frame):
        body = frame.SerializeToString()
        sock.sendall(struct.pack(">I", len(body)) + body)

    def recv():
        (length,) = struct.unpack(">I", read_exactly(sock, 4))
        frame = wire.ServerFrame()
        frame.ParseFromString(read_exactly(sock, length))
        return frame

    send(wire.ClientFrame(kind=wire.ClientFrame.HELLO, protocol_version=wire.PROTOCOL_VERSION_1, client_name="python-interop"))
    classify = api.ClassifyRequest(message='Container image "optio-node:latest" is not present with pull policy of Never')
    # Pipelined: both calls go out before any answer is read.
    send(wire.ClientFrame(kind=wire.ClientFrame.CALL, call_id=1, method="Health"))
    send(wire.ClientFrame(kind=wire.ClientFrame.CALL, call_id=2, method="Classify", payload=classify.SerializeToString()))
    send(wire.ClientFrame(kind=wire.ClientFrame.CALL, call_id=3, method="Classify", payload=api.ClassifyRequest(exit_code=125).SerializeToString()))

    ack = recv()
    if ack.kind != wire.ServerFrame.HELLO_ACK:
        raise RuntimeError(f"expected HELLO_ACK, got {ack}")
    replies = {}
    while len(replies) < 3:
        frame = recv()
        if frame.kind != wire.ServerFrame.REPLY or frame.status_code != 0:
            raise RuntimeError(f"unexpected frame: {frame}")
        replies[frame.call_id] = frame.payload
    health = api.HealthResponse.FromString(replies[1])
    verdict = api.ClassifyResponse.FromString(replies[2])
    by_exit = api.ClassifyResponse.FromString(replies[3])
    print(json.dumps({
        "server_version": ack.server_version,
        "max_message_bytes": ack.max_message_bytes,
        "health_state": health.state,
        "health_pid": health.pid,
        "category": verdict.category,
        "permanent": verdict.permanent,
        "remedy": verdict.remedy,
        "exit_125_category": by_exit.category,
    }))


if __name__ == "__main__":
    main()
