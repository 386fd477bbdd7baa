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
# Sections (functions bench_NAME below):
#   wire       Health and Classify, sidecard next to echo_server
#   retry      ReserveRetrySlot with durable commits, next to Health
#   databases  CheckDb QUICK next to the sqlite3 tool; the reused result
#   images     EnsureImage of a present image next to running the backend's
#              `exists` command once per call (a third C tool, spawn_timer,
#              times the command; `podman image exists` too when podman is
#              installed); then 200 EnsureImage calls waiting on one build of
#              a missing image: the time from the build's end to the first
#              and the last answer, and a check that exactly one build ran.
#              It starts its own sidecards, with images.backend = "command"
#              over Tests/Fixtures/image_store.sh: one for the present image,
#              a fresh one for each build.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [5]      measured seconds per run (plus BENCH_WARMUP)
#   BENCH_WARMUP [1]       unmeasured seconds before each run
#   BENCH_ROUNDS [3]       rounds per scenario; the table shows medians
#   BENCH_SECTIONS [wire retry databases images]  sections to run, in order
#   BENCH_STRICT [0]       1: exit 1 when a target is not met
#   BENCH_AGAINST_ECHO [0] 1: skip the Swift build and let a second
#                          echo_server stand in for sidecard; checks this
#                          script and shows the noise (ratios near 1.00)
#   BENCH_RETRY_SYNC [normal] retry.synchronous of the daemon: "normal" or "full"
#   BENCH_EXISTS_RUNS [300] images: sequential runs of the exists command
#                          per round (podman's, when installed, take about
#                          0.1 s each)
#   BENCH_PIN_SEQUENTIAL [1] 1: run 1-connection scenarios with the server
#                          and loadgen both on CPU 0. On a VM a wake-up on
#                          the other CPU can cost tens of microseconds, more
#                          than the server's own work, and whether the
#                          scheduler puts the two on one CPU varies from run
#                          to run; pinned, the numbers measure the work.
#
# Needs root only to install missing build dependencies with apt-get.
set -euo pipefail
# A failure inside $(...) fails the substitution too, so that a dead daemon
# or loadgen stops the run instead of printing an empty number.
shopt -s inherit_errexit

root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/scripts/bench"
bin="$src/bin"

seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
rounds=${BENCH_ROUNDS:-3}
sections=${BENCH_SECTIONS:-wire retry databases images}
strict=${BENCH_STRICT:-0}
against_echo=${BENCH_AGAINST_ECHO:-0}
pin_sequential=${BENCH_PIN_SEQUENTIAL:-1}
retry_sync=${BENCH_RETRY_SYNC:-normal}
exists_runs=${BENCH_EXISTS_RUNS:-300}

readonly socket_wait_s=10 # how long a server may take to create its socket

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer, not '$rounds'"
[[ $exists_runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_EXISTS_RUNS must be a positive integer, not '$exists_runs'"

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
  log "building echo_server, loadgen and spawn_timer"
  # shellcheck disable=SC2046 # pkg-config output is meant to be split
  gcc "${cflags[@]}" -o "$bin/echo_server" "$src/echo_server.c" $(pkg-config --cflags --libs libuv)
  # shellcheck disable=SC2046
  gcc "${cflags[@]}" -I "$proto_c/include" -o "$bin/loadgen" "$src/loadgen.c" \
    "$proto_c"/*.pb-c.c $(pkg-config --cflags --libs libprotobuf-c) -pthread
  gcc "${cflags[@]}" -o "$bin/spawn_timer" "$src/spawn_timer.c"
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

# start_sidecard CONFIG SOCKET STATE_DIR LOG: a release sidecard in the
# background, ready; its pid in started_pid.
start_sidecard() {
  "$root/.build/release/sidecard" --config "$1" --socket "$2" --state-dir "$3" \
    --log-level warning >"$4" 2>&1 &
  started_pid=$!
  server_pids+=("$started_pid")
  wait_for_socket sidecard "$started_pid" "$2" "$4"
}

# stop_server PID: SIGTERM, a few seconds to drain, then SIGKILL; the pid
# leaves server_pids, so that cleanup never signals a reused one.
stop_server() {
  local pid=$1 kept=() p
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${server_pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  server_pids=("${kept[@]}")
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
    start_sidecard "$tmp/sidecar.toml" "$daemon_sock" "$tmp/state" "$daemon_log"
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

# Extra loadgen flags for every run; a section may set its own with
# `local loadgen_flags=(...)`.
loadgen_flags=()

# run_loadgen SOCKET METHOD CONNECTIONS DEPTH [CPU]: loadgen's one line;
# with CPU, loadgen runs on that CPU only.
run_loadgen() {
  local out pin=()
  [ -z "${5:-}" ] || pin=(taskset -c "$5")
  if ! out=$("${pin[@]}" "$bin/loadgen" --socket "$1" --method "$2" --connections "$3" \
               --depth "$4" --seconds "$seconds" --warmup "$warmup" "${loadgen_flags[@]}"); then
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
# calls compare once per scenario and print_table at its end, or prints its
# own table. A method it benchmarks must be in loadgen's `methods` table
# (scripts/bench/loadgen.c).

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

# measure_daemon METHOD CONNECTIONS DEPTH [CPU]: median calls/s, p50 and
# p99 of rounds runs against sidecard alone, as "rate p50 p99"; with CPU,
# sidecard and loadgen both run on that CPU. Call it as out=$(...), not in
# a here-string, so that its failure stops the script.
measure_daemon() {
  local rates=() p50s=() p99s=() line round cpu=${4:-}
  for round in $(seq "$rounds"); do
    [ -z "$cpu" ] || pin_server "$daemon_pid" "$cpu"
    line=$(run_loadgen "$daemon_sock" "$1" "$2" "$3" "$cpu")
    [ -z "$cpu" ] || pin_server "$daemon_pid" "$all_cpus"
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
  local conns health reserve hr rr ratio verdict out
  echo
  echo "### retry: ReserveRetrySlot with durable commits (retry.synchronous = \"$retry_sync\"), next to Health (target: ≥ 0.50 of Health at 16 connections)"
  echo
  echo "| connections | Health calls/s | p99 us | ReserveRetrySlot calls/s | p50 us | p99 us | ratio | target |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---|"
  for conns in 1 16; do
    out=$(measure_daemon Health "$conns" 1)
    read -r hr _ health <<<"$out"
    out=$(measure_daemon ReserveRetrySlot "$conns" 1)
    read -r rr reserve_p50 reserve <<<"$out"
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
  local conns rate p50 p99 health out
  for conns in 1 16; do
    out=$(LOADGEN_DB_PATH="$tmp/db/bench-50mb.db" measure_daemon CheckDb "$conns" 1)
    read -r rate p50 p99 <<<"$out"
    out=$(measure_daemon Health "$conns" 1)
    read -r health _ _ <<<"$out"
    printf '| %s connection(s) | %.0f | %.1f | %.1f | %.0f |\n' "$conns" "$rate" "$p50" "$p99" "$health"
  done
}

# ---- images ----------------------------------------------------------------

readonly image_waiters=200 # EnsureImage calls waiting on one build (the issue's number)
readonly image_build_s=1   # how long that build takes (the fixture's STORE/agent.delay)

# images_setup DIR BUILD: DIR/store, a store of Tests/Fixtures/image_store.sh
# (an image is the file STORE/NAME), and DIR/sidecar.toml: images.backend =
# "command" over it, with one image, "agent", built by the argv BUILD (the
# inside of a TOML array).
images_setup() {
  local dir=$1 build=$2 fixture="$root/Tests/Fixtures/image_store.sh"
  mkdir -p "$dir/store" "$dir/state"
  cat >"$dir/sidecar.toml" <<TOML
[images]
backend = "command"
presence_ttl = "5s"   # the default: a presence check is trusted this long
[images.command]
exists = ["$fixture", "exists", "$dir/store", "{name}"]
remove = ["$fixture", "remove", "$dir/store", "{name}"]
pull = []
[[images.image]]
name = "agent"
ref = "localhost/agent:latest"
build = [$build]
TOML
}

# time_command LABEL STATUS COMMAND...: rounds runs of spawn_timer, each
# running COMMAND exists_runs times in a row (every run must exit STATUS), as
# "rate p50 p99" medians. Call it as out=$(...).
time_command() {
  local label=$1 status=$2 rates=() p50s=() p99s=() line round err="$tmp/spawn_timer.err"
  shift 2
  for round in $(seq "$rounds"); do
    if ! line=$("$bin/spawn_timer" --runs "$exists_runs" --expect-status "$status" -- "$@" 2>"$err"); then
      tail -n 20 "$err" >&2 || true
      die "$label: the command failed (above)"
    fi
    log "$label, $exists_runs runs, round $round/$rounds: $line"
    rates+=("$(field calls_per_s "$line")")
    p50s+=("$(field p50_us "$line")")
    p99s+=("$(field p99_us "$line")")
  done
  echo "$(median "${rates[@]}") $(median "${p50s[@]}") $(median "${p99s[@]}")"
}

# wait_on_build DIR CONNECTIONS DEPTH: a fresh sidecard on which "agent" is
# missing and takes image_build_s to build, asked for it by CONNECTIONS x
# DEPTH EnsureImage calls at once (loadgen --once). The build is a wrapper
# around the fixture's that writes the time it ended (date +%s%N, the clock
# loadgen stamps answers with) as its last act. Sets build_to_first_ms and
# build_to_last_ms. Fails unless every call was in before the build ended,
# exactly one build ran, and every call was answered BUILT, all but one of
# them as joining the job another started. Runs in the calling shell, not
# in $(...), so that cleanup knows the daemon it starts.
wait_on_build() {
  local dir=$1 conns=$2 depth=$3 fixture="$root/Tests/Fixtures/image_store.sh"
  local sock="$1/sidecar.sock" log_file="$1/sidecard.log" answers="$1/answers.txt"
  local want=$(($2 * $3)) summary build_end builds built joined
  mkdir -p "$dir"
  cat >"$dir/build.sh" <<SH
#!/bin/sh
"$fixture" build "$dir/store" agent || exit
date +%s%N >"$dir/build_end_ns"
SH
  chmod +x "$dir/build.sh"
  images_setup "$dir" "\"$dir/build.sh\""
  echo "$image_build_s" >"$dir/store/agent.delay"
  start_sidecard "$dir/sidecar.toml" "$sock" "$dir/state" "$log_file"
  if ! LOADGEN_IMAGE=agent "$bin/loadgen" --socket "$sock" --method EnsureImage \
         --connections "$conns" --depth "$depth" --once >"$answers"; then
    tail -n 20 "$log_file" >&2 || true
    die "EnsureImage with $want waiters on a build failed (sidecard's log above)"
  fi
  stop_server "$started_pid"

  summary=$(tail -n 1 "$answers")
  [ -s "$dir/build_end_ns" ] || die "the build never wrote its end time; builds.log: $(cat "$dir/store/builds.log" 2>/dev/null)"
  build_end=$(cat "$dir/build_end_ns")
  builds=$(grep -c '^start agent$' "$dir/store/builds.log" || true)
  built=$(grep -c ' outcome=BUILT ' "$answers" || true)
  joined=$(grep -c ' coalesced=1$' "$answers" || true)
  [ "$(field answers "$summary")" = "$want" ] || die "$want calls, but loadgen says: $summary"
  [ "$builds" = 1 ] || die "$builds builds ran for $want waiters, not 1: the build was not shared (singleflight broken); builds.log: $(tr '\n' ' ' <"$dir/store/builds.log")"
  [ "$(field sent_unix_ns "$summary")" -lt "$build_end" ] ||
    die "not every call was in before the build ended; raise image_build_s"
  [ "$built" = "$want" ] || die "$built of $want answers were BUILT (answers in $answers)"
  [ "$joined" = $((want - 1)) ] || die "$joined of $want answers joined the job, not $((want - 1))"
  build_to_first_ms=$(awk -v a="$(field first_unix_ns "$summary")" -v b="$build_end" 'BEGIN { printf "%.3f", (a - b) / 1e6 }')
  build_to_last_ms=$(awk -v a="$(field last_unix_ns "$summary")" -v b="$build_end" 'BEGIN { printf "%.3f", (a - b) / 1e6 }')
}

# EnsureImage of a present image, answered from the presence cache, next to
# what a runner pays without the daemon: running the backend's exists
# command once per call (and `podman image exists`, when there is podman);
# then many callers waiting on one build of a missing image.
bench_images() {
  echo
  if [ "$against_echo" = 1 ]; then
    echo "### images: skipped (BENCH_AGAINST_ECHO=1: there is no sidecard to ask)"
    return
  fi
  local fixture="$root/Tests/Fixtures/image_store.sh" dir="$tmp/images-present"
  # This section's own daemon, under the names run_loadgen and measure_daemon use.
  local daemon_sock="$tmp/images-present/sidecar.sock" daemon_log="$tmp/images-present/sidecard.log" daemon_pid
  # EnsureImage checks every reply anyway; Health does too here, so that the
  # two columns cost the client the same.
  local loadgen_flags=(--check-replies)
  local out rate p50 p99 e_rate e_p50 e_p99 health conns depth cpu label round firsts lasts

  images_setup "$dir" "\"$fixture\", \"build\", \"$dir/store\", \"agent\""
  touch "$dir/store/agent"
  start_sidecard "$dir/sidecar.toml" "$daemon_sock" "$dir/state" "$daemon_log"
  daemon_pid=$started_pid
  # One call first: it must find the image present (so the config works),
  # and it fills the presence cache the runs below are answered from.
  out=$(LOADGEN_IMAGE=agent "$bin/loadgen" --socket "$daemon_sock" --method EnsureImage --once) ||
    die "the first EnsureImage failed (above)"
  [[ $out == *" outcome=PRESENT "* ]] || die "EnsureImage of a present image answered: $out"

  echo "### images: EnsureImage of a present image (presence_ttl = 5 s), next to running its exists command once per call"
  echo
  echo "| scenario | calls/s | p50 us | p99 us | calls/s ÷ the exists command's | Health calls/s, same daemon |"
  echo "|---|---:|---:|---:|---:|---:|"
  out=$(time_command "exists command" 0 "$fixture" exists "$dir/store" agent)
  read -r e_rate e_p50 e_p99 <<<"$out"
  printf '| `image_store.sh exists` as a process, sequential (%s runs) | %.0f | %.1f | %.1f | 1.00 | |\n' \
    "$exists_runs" "$e_rate" "$e_p50" "$e_p99"
  if command -v podman >/dev/null; then
    mkdir -p "$tmp/podman/root" "$tmp/podman/run"
    if out=$(time_command "podman image exists" 1 podman --root "$tmp/podman/root" --runroot "$tmp/podman/run" \
               --storage-driver vfs image exists localhost/nothing:1); then
      read -r rate p50 p99 <<<"$out"
      printf '| `podman image exists` (vfs, empty store), sequential (%s runs) | %.0f | %.1f | %.1f | %.2f | |\n' \
        "$exists_runs" "$rate" "$p50" "$p99" "$(awk -v a="$rate" -v b="$e_rate" 'BEGIN { printf "%.2f", a / b }')"
    else
      echo '| `podman image exists`: failed (its stderr is above) | | | | | |'
    fi
  else
    echo '| `podman image exists`: skipped, podman is not installed | | | | | |'
  fi
  for conns in 1 16; do
    depth=$conns
    cpu=""
    [ "$pin_sequential" = 1 ] && [ "$conns" = 1 ] && cpu=0
    out=$(LOADGEN_IMAGE=agent measure_daemon EnsureImage "$conns" "$depth" ${cpu:+"$cpu"})
    read -r rate p50 p99 <<<"$out"
    out=$(measure_daemon Health "$conns" "$depth" ${cpu:+"$cpu"})
    read -r health _ _ <<<"$out"
    label="EnsureImage, $conns conn$([ "$conns" = 1 ] || echo s), depth $depth${cpu:+, pinned}"
    printf '| %s | %.0f | %.1f | %.1f | %.1f | %.0f |\n' "$label" "$rate" "$p50" "$p99" \
      "$(awk -v a="$rate" -v b="$e_rate" 'BEGIN { printf "%.1f", a / b }')" "$health"
  done
  stop_server "$daemon_pid"

  echo
  echo "### images: $image_waiters EnsureImage calls waiting on one build of a missing image (the build takes ${image_build_s} s)"
  echo
  echo "| waiters | builds run | build end → first answer, ms | build end → last answer, ms |"
  echo "|---|---:|---:|---:|"
  for conns in "$image_waiters" 10; do
    depth=$((image_waiters / conns))
    firsts=() lasts=()
    for round in $(seq "$rounds"); do
      wait_on_build "$tmp/images-wait-$conns-$round" "$conns" "$depth"
      log "$image_waiters waiters on $conns connection(s), round $round/$rounds: build end → first answer ${build_to_first_ms} ms, → last ${build_to_last_ms} ms"
      firsts+=("$build_to_first_ms")
      lasts+=("$build_to_last_ms")
    done
    printf '| %s connections × %s call%s in flight | 1 | %.1f | %.1f |\n' "$conns" "$depth" "$([ "$depth" = 1 ] || echo s)" \
      "$(median "${firsts[@]}")" "$(median "${lasts[@]}")"
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
