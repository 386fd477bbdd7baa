#!/usr/bin/env bash
# Instructions per call of one method, steady state, under callgrind:
#
#   scripts/bench/callgrind.sh SIDECARD [METHOD]   # METHOD: Health (default), Classify, EnsureImage
#                                                  # or ReserveRetrySlot (one key, every call a grant, as in
#                                                  # scripts/bench.sh's retry section)
#   CLASSIFY_MESSAGE='...' scripts/bench/callgrind.sh SIDECARD Classify   # another message
#   CALLGRIND_CONNECTIONS=16 CALLGRIND_DEPTH=1 scripts/bench/callgrind.sh SIDECARD ReserveRetrySlot
#                                                  # the retry section's shape (default 4 x 16)
#
# EnsureImage asks for a present image, "agent", of images.backend =
# "command" over Tests/Fixtures/image_store.sh (as scripts/bench.sh's images
# section), with presence_ttl long enough that no re-check falls inside the
# measurement: the cost of the answer itself.
#
# SIDECARD is a release build (scripts/bench.sh builds one at
# .build/release/sidecard); it is copied with its debug info stripped, which
# this valgrind cannot read. The loadgen (scripts/bench/bin/loadgen, built
# by scripts/bench.sh) drives 4 connections x 16 calls in flight (or as set
# above): 2 s
# uninstrumented, then 4 s instrumented. Prints calls, instructions and
# instructions per call.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:?usage: callgrind.sh SIDECARD [METHOD]}
method=${2:-Health}
connections=${CALLGRIND_CONNECTIONS:-4}
depth=${CALLGRIND_DEPTH:-16}
loadgen="$root/scripts/bench/bin/loadgen"
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
[ -x "$loadgen" ] || { echo "callgrind.sh: no $loadgen; run scripts/bench.sh once to build it" >&2; exit 1; }
dir=$(mktemp -d /tmp/sidecar-callgrind-XXXX)
trap 'kill "$daemon" 2>/dev/null || true' EXIT
strip -g -o "$dir/sidecard" "$binary"
printf 'debug_methods = false\n' > "$dir/sidecar.toml"
if [ "$method" = ReserveRetrySlot ]; then
  source "$root/scripts/bench/retry_grants.sh"
  retry_grants_toml normal >> "$dir/sidecar.toml"
fi
if [ "$method" = EnsureImage ]; then
  fixture="$root/Tests/Fixtures/image_store.sh"
  mkdir -p "$dir/store" && touch "$dir/store/agent"
  cat >> "$dir/sidecar.toml" <<TOML
[images]
backend = "command"
presence_ttl = "1h"
[images.command]
exists = ["$fixture", "exists", "$dir/store", "{name}"]
remove = ["$fixture", "remove", "$dir/store", "{name}"]
pull = []
[[images.image]]
name = "agent"
ref = "localhost/agent:latest"
build = ["$fixture", "build", "$dir/store", "agent"]
TOML
  export LOADGEN_IMAGE=agent
fi
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.out" \
  "$dir/sidecard" --config "$dir/sidecar.toml" --socket "$dir/s.sock" --state-dir "$dir/state" > "$dir/log" 2>&1 &
daemon=$!
for _ in $(seq 150); do [ -S "$dir/s.sock" ] && break; sleep 0.2; done
message=()
[ -n "${CLASSIFY_MESSAGE:-}" ] && message=(--message "$CLASSIFY_MESSAGE")
"$loadgen" --socket "$dir/s.sock" --method "$method" "${message[@]}" --connections "$connections" --depth "$depth" --seconds 2 --warmup 1 > /dev/null
callgrind_control -i on "$daemon" > /dev/null
line=$("$loadgen" --socket "$dir/s.sock" --method "$method" "${message[@]}" --connections "$connections" --depth "$depth" --seconds 4 --warmup 0)
callgrind_control -i off "$daemon" > /dev/null
kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
calls=$(sed -E 's/.*calls=([0-9]+).*/\1/' <<< "$line")
# Into a file first: grep -m1 on the pipe would end callgrind_annotate with
# SIGPIPE, and pipefail would end the script before the result line.
callgrind_annotate "$dir/callgrind.out" > "$dir/annotate.txt" 2>/dev/null
instructions=$(grep -m1 'PROGRAM TOTALS' "$dir/annotate.txt" | sed -E 's/^ *([0-9,]+).*/\1/' | tr -d ,)
echo "$method calls=$calls instructions=$instructions per_call=$((instructions / calls)) profile=$dir/callgrind.out"
