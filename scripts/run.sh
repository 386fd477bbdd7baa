#!/usr/bin/env bash
# Starts sidecard on its embedded defaults (no config file). As root it
# serves /run/sidecar/sidecar.sock with state in /var/lib/sidecar; as
# anyone else, socket and state go under .local/ in this checkout.
# Extra arguments go to sidecard, e.g. `scripts/run.sh --log-level debug`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh
swift build -c release --product sidecard >&2
swift build -c release --product sidecarctl >&2

args=()
if [ "$(id -u)" != 0 ]; then
  mkdir -p "$root/.local"
  args=(--socket "$root/.local/sidecar.sock" --state-dir "$root/.local/state")
  echo "run: try: SIDECAR_SOCKET=$root/.local/sidecar.sock .build/release/sidecarctl health" >&2
else
  echo "run: try: .build/release/sidecarctl health" >&2
fi
exec "$root/.build/release/sidecard" "${args[@]}" "$@"
