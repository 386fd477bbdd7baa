#!/usr/bin/env bash
# kill -9 durability of ReserveRetrySlot, CYCLES times (default 300): sidecard with
# retry.synchronous durable ("normal", or SYNCHRONOUS=full), grants from 4 connections with
# 4 calls in flight each, every answered grant recorded by the client, SIGKILL at a random
# moment, a restart on the same state, then every acknowledged grant checked in ListRetries
# (scripts/crash_durability.py, on the Python client). Prints cycles, grants acknowledged,
# grants lost (must be 0) and the time; exits non-zero when one is lost or when it reaches
# MAX_SECONDS (default 1800) first. Not run by CI. On a shared machine:
#   flock /tmp/sidecar-bench.lock nice -n 10 scripts/crash-durability.sh 300
# CONFIGURATION=release tests a release sidecard (default: debug, as the tests build it).
set -euo pipefail
cycles=${1:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
configuration=${CONFIGURATION:-debug}

flock /tmp/sidecar-build.lock swift build -c "$configuration" --product sidecard >&2
# Debian's python3 with Debian's python3-protobuf (scripts/install-deps.sh), as scripts/test.sh runs.
if ! /usr/bin/python3 -c "import google.protobuf" 2>/dev/null; then
  echo "crash-durability: needs python3-protobuf: scripts/install-deps.sh test" >&2
  exit 1
fi
exec /usr/bin/python3 scripts/crash_durability.py "$root/.build/$configuration/sidecard" "$cycles" \
  --synchronous "${SYNCHRONOUS:-normal}" --max-seconds "${MAX_SECONDS:-1800}"
