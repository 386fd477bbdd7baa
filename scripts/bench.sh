#!/usr/bin/env bash
# Benchmarks sidecard against the floor this machine allows.
#
# Builds sidecard (release) and two C tools in scripts/bench/: echo_server, a
# plain libuv server with the same framing that answers every frame with its
# own body, and loadgen, the client. Each scenario runs against sidecard and
# against echo_server with the same loadgen, alternating, BENCH_ROUNDS times;
# the table shows the medians and the ratio sidecard/echo.
#
#   scripts/bench.sh                       # every section
#   BENCH_SECTIONS=wire scripts/bench.sh   # some sections
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [5]      measured seconds per run (plus BENCH_WARMUP)
#   BENCH_WARMUP [1]       unmeasured seconds before each run
#   BENCH_ROUNDS [3]       rounds per scenario; the table shows medians
#   BENCH_SECTIONS [wire retry databases]  sections to run, in order (see "Sections" below)
#   BENCH_STRICT [0]       1: exit 1 when a target is not met
#   BENCH_AGAINST_ECHO [0] 1: skip the Swift build and let a second
#                          echo_server stand in for sidecard; checks this
#                          script and shows the noise (ratios near 1.00)
#   BENCH_RETRY_SYNC [normal] retry.synchronous of the daemon: "normal" or "full"
#   BENCH_PIN_SEQUENTIAL [1] 1: run 1-connection scenarios with the server
#                          and loadgen both on CPU 0. On a VM a wake-up on
#                          the other CPU can cost tens of microseconds, more
#                          than the server's own work, and whether the
#                          scheduler puts the two on one CPU varies from run
#                          to run; pinned, the numbers measure the work.
#
# Needs root only to install missing build dependencies with apt-get.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/scripts/bench"
bin="$src/bin"

seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
rounds=${BENCH_ROUNDS:-3}
sections=${BENCH_SECTIONS:-wire retry databases}
strict=${BENCH_STRICT:-0}
against_echo=${BENCH_AGAINST_ECHO:-0}
pin_sequential=${BENCH_PIN_SEQUENTIAL:-1}
retry_sync=${BENCH_RETRY_SYNC:-normal}

readonly socket_wait_s=10 # how long a server may take to create its socket

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer, not '$rounds'"

# ---- setup -----------------------------------------------------------------

ensure_deps() {
  if command -v gcc >/dev/null && command -v pkg-config >/dev/null && command -v sqlite3 >/dev/null &&
     pkg-config --exists libuv libprotobuf-c; then
    return
  fi
  local pkgs=(libuv1-dev libprotobuf-c-dev gcc pkg-config sqlite3 python3)
  [ "$(id -u)" = 0 ] || die "missing build dependencies; run: sudo apt-get install -y ${pkgs[*]}"
  log "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh container has no package lists yet: update once and retry.
  apt-get install -y "${pkgs[@]}" >&2 ||
    { apt-get update >&2 && apt-get install -y "${pkgs[@]}" >&2; }
}

build_sidecard() {
  command -v swift >/dev/null || die "swift not found; install a Swift 6 toolchain"
  log "building sidecard and sidecarctl (release)"
  (cd "$root" && swift build -c release --product sidecard && swift build -c release --product sidecarctl) >&2
  [ -x "$root/.build/release/sidecard" ] || die "no .build/release/sidecard after the build"
}

build_tools() {
  local cflags=(-O2 -Wall -Wextra)
  local proto_c="$root/Sources/SidecarProtoC"
  mkdir -p "$bin"
  log "building echo_server and loadgen"
  # shellcheck disable=SC2046 # pkg-config output is meant to be split
  gcc "${cflags[@]}" -o "$bin/echo_server" "$src/echo_server.c" $(pkg-config --cflags --libs libuv)
  # shellcheck disable=SC2046
  gcc "${cflags[@]}" -I "$proto_c/include" -o "$bin/loadgen" "$src/loadgen.c" \
    "$proto_c"/*.pb-c.c $(pkg-config --cflags --libs libprotobuf-c) -pthread
}

# ---- servers ---------------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sidecar-bench.XXXXXX")
server_pids=()

cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${server_pids[@]}"; do
    # Give each a few seconds to drain, then stop waiting politely.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_socket NAME PID PATH LOG: until PATH is a socket, for at most
# socket_wait_s seconds; fails early if the server died.
wait_for_socket() {
  local name=$1 pid=$2 path=$3 log_file=$4
  local tries=$((socket_wait_s * 20))
  while [ ! -S "$path" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log_file" >&2 || true
      die "$name exited before creating $path (log above)"
    fi
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || die "$name did not create $path within ${socket_wait_s} s"
    sleep 0.05
  done
}

start_echo() { # start_echo SOCKET LOG: echo_server in the background
  "$bin/echo_server" "$1" >"$2" 2>&1 &
  server_pids+=($!)
  wait_for_socket echo_server $! "$1" "$2"
}

start_servers() {
  daemon_sock="$tmp/sidecar.sock"
  daemon_log="$tmp/sidecard.log"
  echo_sock="$tmp/echo.sock"
  if [ "$against_echo" = 1 ]; then
    log "BENCH_AGAINST_ECHO=1: a second echo_server stands in for sidecard"
    start_echo "$daemon_sock" "$daemon_log"
  else
    mkdir -p "$tmp/state"
    # Retry bench: no throttling and a cap the run never reaches, so every
    # call is a durable grant.
    mkdir -p "$tmp/db"
    cat >"$tmp/sidecar.toml" <<TOML
[databases]
roots = ["$tmp/db"]
[retry]
synchronous = "$retry_sync"
budget_percent = 100
min_retry_concurrency = 1000000
[retry.policy.default]
max_attempts = 1000000
base_delay = "0"
max_delay = "0"
TOML
    "$root/.build/release/sidecard" --config "$tmp/sidecar.toml" --socket "$daemon_sock" --state-dir "$tmp/state" \
      --log-level warning >"$daemon_log" 2>&1 &
    server_pids+=($!)
    wait_for_socket sidecard $! "$daemon_sock" "$daemon_log"
  fi
  daemon_pid=${server_pids[0]}
  start_echo "$echo_sock" "$tmp/echo.log"
  echo_pid=${server_pids[1]}
}

# ---- measuring -------------------------------------------------------------

all_cpus="0-$(($(nproc) - 1))"

# pin_server PID CPUS: moves every thread of a server to CPUS.
pin_server() {
  taskset -a -p -c "$2" "$1" >/dev/null || die "taskset on pid $1 failed"
}

# run_loadgen SOCKET METHOD CONNECTIONS DEPTH [CPU]: loadgen's one line;
# with CPU, loadgen runs on that CPU only.
run_loadgen() {
  local out pin=()
  [ -z "${5:-}" ] || pin=(taskset -c "$5")
  if ! out=$("${pin[@]}" "$bin/loadgen" --socket "$1" --method "$2" --connections "$3" \
               --depth "$4" --seconds "$seconds" --warmup "$warmup"); then
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
      tail -n 20 "$daemon_log" >&2 || true
      die "sidecard died (log above)"
    fi
    die "loadgen failed against $1 ($2, $3 connections, depth $4)"
  fi
  echo "$out"
}

field() { # field KEY LINE: the value of KEY=... in a loadgen line
  local kv
  for kv in $2; do
    [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }
  done
  die "no $1 in loadgen output: $2"
}

median() { # median NUMBER...: the middle value (mean of the two middle ones)
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# compare LABEL METHOD CONNECTIONS DEPTH [TARGET]: runs the scenario against
# sidecard and echo_server, rounds times, alternating which goes first so
# drift on a busy machine hits both, and adds a row to the current table.
# TARGET is the lowest acceptable ratio of calls/s (sidecard/echo); without
# it the row has no target.
compare() {
  local label=$1 method=$2 conns=$3 depth=$4 target=${5:-}
  local d_rate=() d_p50=() d_p99=() e_rate=() e_p50=() e_p99=()
  local round line order who cpu=""
  [ "$pin_sequential" = 1 ] && [ "$conns" = 1 ] && cpu=0
  for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="daemon echo"; else order="echo daemon"; fi
    for who in $order; do
      if [ "$who" = daemon ]; then
        [ -z "$cpu" ] || pin_server "$daemon_pid" "$cpu"
        line=$(run_loadgen "$daemon_sock" "$method" "$conns" "$depth" "$cpu")
        [ -z "$cpu" ] || pin_server "$daemon_pid" "$all_cpus"
        d_rate+=("$(field calls_per_s "$line")")
        d_p50+=("$(field p50_us "$line")")
        d_p99+=("$(field p99_us "$line")")
      else
        [ -z "$cpu" ] || pin_server "$echo_pid" "$cpu"
        line=$(run_loadgen "$echo_sock" "$method" "$conns" "$depth" "$cpu")
        [ -z "$cpu" ] || pin_server "$echo_pid" "$all_cpus"
        e_rate+=("$(field calls_per_s "$line")")
        e_p50+=("$(field p50_us "$line")")
        e_p99+=("$(field p99_us "$line")")
      fi
      log "$label, round $round/$rounds, $who: $line"
    done
  done
  [ -z "$cpu" ] || label="$label, pinned"

  local dr ep er ratio verdict=""
  dr=$(median "${d_rate[@]}")
  er=$(median "${e_rate[@]}")
  ep=$(median "${e_p50[@]}")
  ratio=$(awk -v a="$dr" -v b="$er" 'BEGIN { printf "%.2f", a / b }')
  if [ -n "$target" ]; then
    if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
      verdict="≥ $target: met"
    else
      verdict="≥ $target: **not met**"
      targets_missed=$((targets_missed + 1))
    fi
  fi
  table_rows+=("$(printf '| %s | %.0f | %.1f | %.1f | %.0f | %.1f | %.1f | %s | %s |' \
    "$label" "$dr" "$(median "${d_p50[@]}")" "$(median "${d_p99[@]}")" \
    "$er" "$ep" "$(median "${e_p99[@]}")" "$ratio" "$verdict")")
}

table_rows=()
targets_missed=0

# print_table TITLE: prints the rows compare added since the last table.
print_table() {
  echo
  echo "### $1"
  echo
  echo "| scenario | sidecard calls/s | p50 us | p99 us | echo calls/s | p50 us | p99 us | ratio | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${table_rows[@]}"
  table_rows=()
}

# ---- sections --------------------------------------------------------------
#
# A section is a function bench_NAME, run when NAME is in BENCH_SECTIONS. It
# calls compare once per scenario and print_table at its end. A method it
# benchmarks must be in loadgen's `methods` table (scripts/bench/loadgen.c).
# Sections to come: ensure_image (EnsureImage).

# The wire: protocol, framing and dispatch cost with trivial handlers.
bench_wire() {
  local method
  for method in Health Classify; do
    compare "$method, 1 conn, depth 1" "$method" 1 1 0.70
    compare "$method, 16 conns, depth 1" "$method" 16 1
    compare "$method, 16 conns, depth 16" "$method" 16 16 0.60
  done
  print_table "wire: Health and Classify (targets: ratio ≥ 0.70 on 1 connection, ≥ 0.60 pipelined)"
}

# measure_daemon METHOD CONNECTIONS DEPTH: median calls/s, p50 and p99 of
# rounds runs against sidecard alone, as "rate p50 p99".
measure_daemon() {
  local rates=() p50s=() p99s=() line round
  for round in $(seq "$rounds"); do
    line=$(run_loadgen "$daemon_sock" "$1" "$2" "$3")
    log "$1, $2 conns, depth $3, round $round/$rounds: $line"
    rates+=("$(field calls_per_s "$line")")
    p50s+=("$(field p50_us "$line")")
    p99s+=("$(field p99_us "$line")")
  done
  echo "$(median "${rates[@]}") $(median "${p50s[@]}") $(median "${p99s[@]}")"
}

# Durable retry grants (a SQLite commit with fsync before each answer,
# grouped per loop turn) next to Health on the same daemon.
bench_retry() {
  local conns health reserve hr rr ratio verdict
  echo
  echo "### retry: ReserveRetrySlot with durable commits (retry.synchronous = \"$retry_sync\"), next to Health (target: ≥ 0.50 of Health at 16 connections)"
  echo
  echo "| connections | Health calls/s | p99 us | ReserveRetrySlot calls/s | p50 us | p99 us | ratio | target |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---|"
  for conns in 1 16; do
    read -r hr _ health <<<"$(measure_daemon Health "$conns" 1)"
    read -r rr reserve_p50 reserve <<<"$(measure_daemon ReserveRetrySlot "$conns" 1)"
    ratio=$(awk -v a="$rr" -v b="$hr" 'BEGIN { printf "%.2f", a / b }')
    verdict=""
    if [ "$conns" = 16 ]; then
      if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.5) }'; then verdict="≥ 0.50: met"; else
        verdict="≥ 0.50: **not met**"; targets_missed=$((targets_missed + 1)); fi
    fi
    printf '| %s | %.0f | %.1f | %.0f | %.1f | %.1f | %s | %s |\n' \
      "$conns" "$hr" "$health" "$rr" "$reserve_p50" "$reserve" "$ratio" "$verdict"
  done
}

# now_ns: a monotonic-enough wall clock for timing whole commands.
now_ns() { date +%s%N; }

# CheckDb QUICK of a 50 MB and a 500 MB database (a fresh check each time:
# the file is touched first so no result is reused) next to `sqlite3 FILE
# 'PRAGMA quick_check'` as a process; then the reused-result path in calls/s.
bench_databases() {
  local size rows path start end cli_ms check_ms wall_ms round cli=() checks=() walls=() answer
  echo
  echo "### databases: CheckDb QUICK (fresh) next to the sqlite3 tool, and the reused result"
  echo
  echo "| database | sqlite3 quick_check, ms | CheckDb check_seconds, ms | CheckDb via sidecarctl, ms |"
  echo "|---|---:|---:|---:|"
  for size in 50 500; do
    rows=$((size * 1000))
    path="$tmp/db/bench-${size}mb.db"
    log "making a ${size} MB database"
    python3 "$root/Tests/Fixtures/sqlite_fixture.py" healthy "$path" "$rows"
    sqlite3 "$path" 'PRAGMA quick_check' >/dev/null  # warm the page cache for both
    cli=() checks=() walls=()
    for round in $(seq "$rounds"); do
      start=$(now_ns)
      [ "$(sqlite3 "$path" 'PRAGMA quick_check')" = ok ] || die "sqlite3 says $path is not ok"
      end=$(now_ns)
      cli+=("$(( (end - start) / 1000 ))")
      touch "$path"
      start=$(now_ns)
      answer=$("$root/.build/release/sidecarctl" --socket "$daemon_sock" --json check-db "$path") ||
        die "CheckDb failed: $answer"
      end=$(now_ns)
      walls+=("$(( (end - start) / 1000 ))")
      checks+=("$(python3 -c 'import json,sys; print(int(json.load(sys.stdin)["check_seconds"] * 1e6))' <<<"$answer")")
      log "${size} MB round $round: sqlite3 ${cli[-1]} us, CheckDb ${checks[-1]} us (${walls[-1]} us with sidecarctl)"
    done
    printf '| %s MB | %.1f | %.1f | %.1f |\n' "$size" \
      "$(awk -v v="$(median "${cli[@]}")" 'BEGIN { print v / 1000 }')" \
      "$(awk -v v="$(median "${checks[@]}")" 'BEGIN { print v / 1000 }')" \
      "$(awk -v v="$(median "${walls[@]}")" 'BEGIN { print v / 1000 }')"
  done
  echo
  echo "| reused result (50 MB, unchanged) | calls/s | p50 us | p99 us | Health calls/s |"
  echo "|---|---:|---:|---:|---:|"
  local conns rate p50 p99 health
  for conns in 1 16; do
    read -r rate p50 p99 <<<"$(LOADGEN_DB_PATH="$tmp/db/bench-50mb.db" measure_daemon CheckDb "$conns" 1)"
    read -r health _ _ <<<"$(measure_daemon Health "$conns" 1)"
    printf '| %s connection(s) | %.0f | %.1f | %.1f | %.0f |\n' "$conns" "$rate" "$p50" "$p99" "$health"
  done
}

# ---- main ------------------------------------------------------------------

for section in $sections; do
  declare -F "bench_$section" >/dev/null || die "unknown section '$section'"
done

ensure_deps
if [ "$pin_sequential" = 1 ]; then
  command -v taskset >/dev/null || die "BENCH_PIN_SEQUENTIAL=1 needs taskset (util-linux)"
fi
[ "$against_echo" = 1 ] || build_sidecard
build_tools
start_servers

echo "## sidecard benchmark"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, medians of $rounds rounds of ${seconds} s (after ${warmup} s warm-up)."
[ "$against_echo" = 1 ] && echo "BENCH_AGAINST_ECHO=1: the sidecard columns are a second echo_server."
[ "$pin_sequential" = 1 ] && echo "BENCH_PIN_SEQUENTIAL=1: 1-connection rows ran server and loadgen on CPU 0."
for section in $sections; do
  "bench_$section"
done

if [ "$targets_missed" -gt 0 ]; then
  log "$targets_missed target(s) not met"
  [ "$strict" = 1 ] && exit 1
fi
exit 0
