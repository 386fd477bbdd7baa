#!/usr/bin/env bash
# Tests the container image for real: builds it with scripts/container-image.sh
# (debug binaries, podman storage of its own), runs it with the socket folder
# bind-mounted and a command-backend config whose build leaves an orphan,
# then asks `health` and `ensure-image` from the host's sidecarctl through
# the socket, and checks that the orphan left no zombie behind (tini is
# PID 1). The same image with sidecard as PID 1 (--entrypoint) must leave
# the zombie: that shows the check sees one. scripts/test.sh runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/sidecar-container-XXXXXX)
storage="--storage-driver vfs --root $work/root --runroot $work/runroot --events-backend file --cgroup-manager cgroupfs"
read -r -a podman <<< "podman $storage"
containers=()
cleanup() {
  for name in "${containers[@]}"; do "${podman[@]}" rm -f -t 0 "$name" > /dev/null 2>&1 || true; done
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "test-container: FAIL: $*" >&2; exit 1; }
ctl=$root/.build/debug/sidecarctl

image=$(PODMAN_STORAGE="$storage" "$root/scripts/container-image.sh" --configuration debug localhost/sidecar:test 2> "$work/build.log") ||
  { cat "$work/build.log" >&2; fail "the image did not build"; }
cat > "$work/sidecar.toml" <<'TOML'
[images]
backend = "command"

[images.command]
exists = ["test", "-e", "/var/lib/sidecar/{name}.done"]

[[images.image]]
name = "orphan"
ref = "localhost/orphan:1"
build = ["sh", "-c", "sleep 120 & touch /var/lib/sidecar/orphan.done; echo built"]
TOML

# NAME [ENTRYPOINT ARGS...]: runs the image, its socket in $work/NAME/sock,
# and builds an image whose build leaves an orphan.
run_and_build() {
  local name=$1
  shift
  mkdir -p "$work/$name/sock" "$work/$name/state"
  "${podman[@]}" run -d --name "$name" --runtime runc --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    -v "$work/$name/sock:/run/sidecar" -v "$work/$name/state:/var/lib/sidecar" -v "$work/sidecar.toml:/etc/sidecar/sidecar.toml:ro" \
    "$@" > /dev/null || fail "$name did not start"
  local socket=$work/$name/sock/sidecar.sock
  "$ctl" health --socket "$socket" > "$work/$name/health.txt" ||
    fail "$name: the host's sidecarctl cannot reach the daemon: $(cat "$work/$name/health.txt"; "${podman[@]}" logs "$name" 2>&1 | tail -5)"
  grep -q "^sidecard .* serving" "$work/$name/health.txt" || fail "$name: health says $(cat "$work/$name/health.txt")"
  "$ctl" ensure-image orphan --progress none --socket "$socket" > "$work/$name/ensure.txt" || fail "$name: ensure-image: $(cat "$work/$name/ensure.txt")"
  grep -q "BUILT" "$work/$name/ensure.txt" || fail "$name: ensure-image says $(cat "$work/$name/ensure.txt")"
}

# NAME: "STATE COMMAND" of each process in the container's pid namespace,
# seen from the host.
processes_of() {
  local init namespace
  init=$("${podman[@]}" inspect --format '{{.State.Pid}}' "$1")
  namespace=$(readlink "/proc/$init/ns/pid")
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/ns/pid" 2>/dev/null)" = "$namespace" ] || continue
    awk '/^Name:/ { name = $2 } /^State:/ { state = $2 } END { print state, name }' "$proc/status" 2>/dev/null || true
  done
}

# NAME: waits until the build's orphan, `sleep`, is gone (killed and
# reaped), 2 s at most, then prints the zombies left: a reaped orphan is
# gone, an unreaped one stays in state Z for ever.
zombies_after_the_orphan() {
  local tries=20
  while processes_of "$1" | grep -q ' sleep$' && [ "$tries" -gt 0 ]; do
    tries=$((tries - 1))
    sleep 0.1
  done
  processes_of "$1" | grep '^Z ' || true
}

containers=(with-tini as-pid-one)
run_and_build with-tini "$image"
with_tini=$(zombies_after_the_orphan with-tini)
[ -z "$with_tini" ] || fail "the image left a zombie behind: $with_tini"
run_and_build as-pid-one --entrypoint /usr/bin/sidecard "$image" \
  --config /etc/sidecar/sidecar.toml --socket /run/sidecar/sidecar.sock --state-dir /var/lib/sidecar
as_pid_one=$(zombies_after_the_orphan as-pid-one)
[ -n "$as_pid_one" ] || fail "sidecard as PID 1 left no zombie: the check cannot see one"
echo "test-container: ok ($image: health and ensure-image through the socket; no zombie under tini, one without)"
