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
#   docker     EnsureImage of a present image with images.backend = "docker"
#              (presence kept by the engine's event stream) next to
#              `docker image inspect` as a process against the same engine,
#              and a raw GET of the image's JSON with curl as a process.
#              The engine is a `podman system service` on a store of its
#              own in a temp folder, started and removed by the section
#              (skipped without podman); the image is built once through
#              sidecard. Without a docker CLI that works against podman's
#              API, `podman image inspect` is the baseline, and the row
#              says so. Target: EnsureImage ≥ 100× faster per call.
#   oci        images.backend = "oci-layout" (the default), pulling from a
#              `docker-registry` on 127.0.0.1 that the section starts, with
#              an image of two pseudo-random layers (BENCH_OCI_MB in all,
#              made by Tests/Fixtures/oci_fixture.py, pushed with skopeo,
#              pulled once through sidecard). Per call: EnsureImage of the
#              present, verified image next to `skopeo inspect` of the same
#              layout as a process. Then the first full verification: a
#              fresh sidecard on the same state dir (its verification cache
#              is in memory, so empty) answers one `sidecarctl ensure-image`
#              by hashing every blob; a second call right after is the CLI
#              round trip; MB/s = blob bytes ÷ (first - second), next to
#              `sha256sum` of the same blob files (MB = 10^6 bytes), and
#              `openssl dgst -sha256` (the libcrypto sidecard hashes with)
#              as a reference when installed. All read from the page cache:
#              a `cat` of the blobs runs before each.
#              Skipped without skopeo or docker-registry.
#   python     the Python client (clients/python) next to loadgen, same
#              daemon, same run: health() one call after the other from the
#              blocking Client (loadgen: 1 connection, depth 1; pinned like
#              wire's 1-connection rows) and 64 in flight from one
#              AsyncClient (loadgen: 1 connection, depth 64).
#              Target: Client adds at most 40 us to the sequential p50.
#   ts         The TypeScript client (clients/typescript, compiled with tsc,
#              run by node: clients/typescript/bench/bench.mjs) next to the
#              C loadgen on the same sidecard, alternating: health() and
#              ensureImage() of a present image (images.backend = "command"
#              over Tests/Fixtures/image_store.sh), one connection with one
#              call in flight (pinned like the other 1-connection rows) and
#              with 64. Targets: the client adds at most 30 us to loadgen's
#              p50 sequentially, and reaches ≥ 0.4 of loadgen's calls/s at
#              depth 64. Skipped without node or tsc.
#   go         The Go client (clients/go, built with Debian's Go offline:
#              clients/go/scripts/goenv.sh; the program is clients/go/bench)
#              next to the C loadgen on the same sidecard, alternating:
#              Health and EnsureImage of a present image (the command
#              backend, as for ts), one goroutine calling one call after the
#              other (pinned like the other 1-connection rows) and 64
#              goroutines on one Client, next to loadgen with 1 connection at
#              depth 1 and 64. Targets: the client adds at most 15 us to
#              loadgen's p50 sequentially, and reaches ≥ 0.6 of loadgen's
#              calls/s at depth 64. Skipped without go.
#
#   fleet      Fleet mode's shared ledger: ReserveRetrySlot answered from a
#              real PostgreSQL (Debian's postgresql, started as its own user
#              in a temp dir, fsync on) by a fleet-mode sidecard, next to the
#              local ledger (the main sidecard) in the same run, at 1 and 16
#              connections. Targets: ≥ 2,000 reserves/s at p99 ≤ 10 ms from
#              16 connections. Skipped without PostgreSQL.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [5]      measured seconds per run (plus BENCH_WARMUP)
#   BENCH_WARMUP [1]       unmeasured seconds before each run
#   BENCH_ROUNDS [3]       rounds per scenario; the table shows medians
#   BENCH_SECTIONS [wire retry databases images docker oci python ts go hooks fleet]  sections to run, in order
#   BENCH_STRICT [0]       1: exit 1 when a target is not met
#   BENCH_AGAINST_ECHO [0] 1: skip the Swift build and let a second
#                          echo_server stand in for sidecard; checks this
#                          script and shows the noise (ratios near 1.00)
#   BENCH_RETRY_SYNC [normal] retry.synchronous of the daemon: "normal" or "full"
#   BENCH_EXISTS_RUNS [300] images: sequential runs of the exists command
#   BENCH_HOOKS_RUNS [50]   hooks: sequential container starts per hooks setup
#                          per round (podman's, when installed, take about
#                          0.1 s each)
#   BENCH_DOCKER_INSPECT_RUNS [100] docker: sequential runs of `docker image
#                          inspect` (and of curl) per round (20-40 ms each)
#   BENCH_OCI_INSPECT_RUNS [100] oci: sequential runs of `skopeo inspect`
#                          per round (15-25 ms each)
#   BENCH_OCI_MB [200]     oci: the image's size in MiB, in two layers
#   BENCH_SIDECARD_DIR []  a folder with release sidecard and sidecarctl
#                          already built (e.g. another checkout's
#                          .build/release): used as they are, no Swift build
#   BENCH_PIN_SEQUENTIAL [1] 1: run 1-connection scenarios with the server
#                          and loadgen both on CPU 0. On a VM a wake-up on
#                          the other CPU can cost tens of microseconds, more
#                          than the server's own work, and whether the
#                          scheduler puts the two on one CPU varies from run
#                          to run; pinned, the numbers measure the work.
#
# Needs root only to install missing dependencies with apt-get (for the
# docker section also podman, docker.io and curl, for the oci section
# skopeo, docker-registry and curl, when missing).
set -euo pipefail
# A failure inside $(...) fails the substitution too, so that a dead daemon
# or loadgen stops the run instead of printing an empty number.
shopt -s inherit_errexit

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/retry_grants.sh
source "$root/scripts/bench/retry_grants.sh"
src="$root/scripts/bench"
bin="$src/bin"

seconds=${BENCH_SECONDS:-5}
warmup=${BENCH_WARMUP:-1}
rounds=${BENCH_ROUNDS:-3}
sections=${BENCH_SECTIONS:-wire retry databases images docker oci python ts go hooks fleet}
strict=${BENCH_STRICT:-0}
against_echo=${BENCH_AGAINST_ECHO:-0}
pin_sequential=${BENCH_PIN_SEQUENTIAL:-1}
retry_sync=${BENCH_RETRY_SYNC:-normal}
exists_runs=${BENCH_EXISTS_RUNS:-300}
hooks_runs=${BENCH_HOOKS_RUNS:-50}
docker_inspect_runs=${BENCH_DOCKER_INSPECT_RUNS:-100}
oci_inspect_runs=${BENCH_OCI_INSPECT_RUNS:-100}
oci_mb=${BENCH_OCI_MB:-200}
prebuilt=${BENCH_SIDECARD_DIR:-}
release=${prebuilt:-$root/.build/release}

readonly socket_wait_s=10 # how long a server may take to create its socket

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer, not '$rounds'"
[[ $exists_runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_EXISTS_RUNS must be a positive integer, not '$exists_runs'"
[[ $hooks_runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_HOOKS_RUNS must be a positive integer, not '$hooks_runs'"
[[ $docker_inspect_runs =~ ^[1-9][0-9]*$ ]] ||
  die "BENCH_DOCKER_INSPECT_RUNS must be a positive integer, not '$docker_inspect_runs'"
[[ $oci_inspect_runs =~ ^[1-9][0-9]*$ ]] ||
  die "BENCH_OCI_INSPECT_RUNS must be a positive integer, not '$oci_inspect_runs'"
[[ $oci_mb =~ ^[1-9][0-9]*$ ]] && [ "$oci_mb" -ge 2 ] || die "BENCH_OCI_MB must be an integer ≥ 2, not '$oci_mb'"

# ---- setup -----------------------------------------------------------------

ensure_deps() {
  if [ "$against_echo" != 1 ]; then
    [[ " $sections " != *" docker "* ]] || ensure_section_deps docker podman:podman docker.io:docker curl:curl
    [[ " $sections " != *" oci "* ]] || ensure_section_deps oci skopeo:skopeo docker-registry:docker-registry curl:curl
  fi
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

# ensure_section_deps SECTION PACKAGE:COMMAND...: what only SECTION uses,
# each PACKAGE installed when its COMMAND is missing. Not fatal: the docker
# section is skipped without podman and times `podman image inspect` without
# a docker CLI; the oci section is skipped without skopeo or docker-registry.
ensure_section_deps() {
  local section=$1 pkgs=() spec pkg updated=0
  shift
  for spec in "$@"; do
    command -v "${spec#*:}" >/dev/null || pkgs+=("${spec%%:*}")
  done
  [ ${#pkgs[@]} -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    log "$section section: ${pkgs[*]} missing; run: sudo apt-get install -y --no-install-recommends ${pkgs[*]}"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  # One at a time, so that one that cannot be installed leaves the others.
  for pkg in "${pkgs[@]}"; do
    log "installing $pkg for the $section section"
    apt-get install -y --no-install-recommends "$pkg" >&2 && continue
    if [ "$updated" = 0 ]; then
      updated=1
      apt-get update >&2 && apt-get install -y --no-install-recommends "$pkg" >&2 && continue
    fi
    log "could not install $pkg; the $section section does without it"
  done
}

build_sidecard() {
  if [ -n "$prebuilt" ]; then
    [ -x "$release/sidecard" ] && [ -x "$release/sidecarctl" ] ||
      die "BENCH_SIDECARD_DIR=$prebuilt has no sidecard and sidecarctl"
    log "using the sidecard and sidecarctl in $release (BENCH_SIDECARD_DIR)"
    return
  fi
  command -v swift >/dev/null || die "swift not found; install a Swift 6 toolchain"
  log "building sidecard and sidecarctl (release)"
  (cd "$root" && swift build -c release --product sidecard && swift build -c release --product sidecarctl) >&2
  [ -x "$release/sidecard" ] || die "no .build/release/sidecard after the build"
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
short_dirs=() # folders outside $tmp (short, for socket paths) that cleanup removes

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
  rm -rf "$tmp" "${short_dirs[@]}"
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
  "$release/sidecard" --config "$1" --socket "$2" --state-dir "$3" \
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
    mkdir -p "$tmp/db"
    printf '[databases]\nroots = ["%s"]\n' "$tmp/db" >"$tmp/sidecar.toml"
    retry_grants_toml "$retry_sync" >>"$tmp/sidecar.toml"
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
    compare "$method, 1 conn, depth 1" "$method" 1 1 0.85
    compare "$method, 16 conns, depth 1" "$method" 16 1
    compare "$method, 16 conns, depth 16" "$method" 16 16 0.70
  done
  print_table "wire: Health and Classify (targets: ratio ≥ 0.85 on 1 connection pinned, ≥ 0.70 pipelined)"
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

# measure_with_health IMAGE CONNS DEPTH [CPU]: EnsureImage of IMAGE and
# Health on the same daemon, alternating round by round (which goes first
# too), so both see the same moments of a noisy machine; sets ensure_out and
# health_out to "RATE P50 P99" (medians).
measure_with_health() {
  local e_rates=() e_p50s=() e_p99s=() h_rates=() h_p50s=() h_p99s=() line round who order cpu=${4:-}
  for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="ensure health"; else order="health ensure"; fi
    for who in $order; do
      [ -z "$cpu" ] || pin_server "$daemon_pid" "$cpu"
      if [ "$who" = ensure ]; then
        line=$(LOADGEN_IMAGE=$1 run_loadgen "$daemon_sock" EnsureImage "$2" "$3" "$cpu")
        e_rates+=("$(field calls_per_s "$line")"); e_p50s+=("$(field p50_us "$line")"); e_p99s+=("$(field p99_us "$line")")
      else
        line=$(run_loadgen "$daemon_sock" Health "$2" "$3" "$cpu")
        h_rates+=("$(field calls_per_s "$line")"); h_p50s+=("$(field p50_us "$line")"); h_p99s+=("$(field p99_us "$line")")
      fi
      [ -z "$cpu" ] || pin_server "$daemon_pid" "$all_cpus"
      log "$who, $2 conns, depth $3, round $round/$rounds: $line"
    done
  done
  ensure_out="$(median "${e_rates[@]}") $(median "${e_p50s[@]}") $(median "${e_p99s[@]}")"
  health_out="$(median "${h_rates[@]}") $(median "${h_p50s[@]}") $(median "${h_p99s[@]}")"
}

# versus_health RATE P99 HEALTH_RATE HEALTH_P99: sets versus_text to
# EnsureImage's calls/s over Health's on the same daemon, its p99 over
# Health's, and the verdict on the target (at least 0.8 of Health's calls/s
# and a p99 at most 2 × Health's); a miss is counted.
versus_health() {
  local ratio p99x
  ratio=$(awk -v a="$1" -v b="$3" 'BEGIN { printf "%.2f", a / b }')
  p99x=$(awk -v a="$2" -v b="$4" 'BEGIN { printf "%.1f", a / b }')
  if awk -v r="$ratio" -v p="$p99x" 'BEGIN { exit !(r >= 0.8 && p <= 2.0) }'; then
    versus_text="$ratio, p99 ${p99x}×: met"
  else
    versus_text="$ratio, p99 ${p99x}×: **not met**"
    targets_missed=$((targets_missed + 1))
  fi
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
      answer=$("$release/sidecarctl" --socket "$daemon_sock" --json check-db "$path") ||
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
  echo "| scenario | calls/s | p50 us | p99 us | calls/s ÷ the exists command's | Health calls/s, same daemon | ÷ Health (target ≥ 0.8, p99 ≤ 2×) |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  out=$(time_command "exists command" 0 "$fixture" exists "$dir/store" agent)
  read -r e_rate e_p50 e_p99 <<<"$out"
  printf '| `image_store.sh exists` as a process, sequential (%s runs) | %.0f | %.1f | %.1f | 1.00 | | |\n' \
    "$exists_runs" "$e_rate" "$e_p50" "$e_p99"
  if command -v podman >/dev/null; then
    mkdir -p "$tmp/podman/root" "$tmp/podman/run"
    if out=$(time_command "podman image exists" 1 podman --root "$tmp/podman/root" --runroot "$tmp/podman/run" \
               --storage-driver vfs image exists localhost/nothing:1); then
      read -r rate p50 p99 <<<"$out"
      printf '| `podman image exists` (vfs, empty store), sequential (%s runs) | %.0f | %.1f | %.1f | %.2f | | |\n' \
        "$exists_runs" "$rate" "$p50" "$p99" "$(awk -v a="$rate" -v b="$e_rate" 'BEGIN { printf "%.2f", a / b }')"
    else
      echo '| `podman image exists`: failed (its stderr is above) | | | | | | |'
    fi
  else
    echo '| `podman image exists`: skipped, podman is not installed | | | | | | |'
  fi
  for conns in 1 16; do
    depth=$conns
    cpu=""
    [ "$pin_sequential" = 1 ] && [ "$conns" = 1 ] && cpu=0
    measure_with_health agent "$conns" "$depth" ${cpu:+"$cpu"}
    read -r rate p50 p99 <<<"$ensure_out"
    read -r health _ health_p99 <<<"$health_out"
    versus_health "$rate" "$p99" "$health" "$health_p99"
    label="EnsureImage, $conns conn$([ "$conns" = 1 ] || echo s), depth $depth${cpu:+, pinned}"
    printf '| %s | %.0f | %.1f | %.1f | %.1f | %.0f | %s |\n' "$label" "$rate" "$p50" "$p99" \
      "$(awk -v a="$rate" -v b="$e_rate" 'BEGIN { printf "%.1f", a / b }')" "$health" "$versus_text"
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

# ---- docker ----------------------------------------------------------------

readonly docker_ref="localhost/bench-agent:latest" # the image the docker section builds and asks for
readonly docker_target=100                          # EnsureImage ≥ this many times faster per call (the issue's)

# start_podman DIR: `podman system service` on DIR/podman.sock, on a store of
# its own under DIR (vfs: plain files, removable with rm), logging one
# access-log line per API request (--log-level=info) to DIR/service.log,
# ready to answer; its pid in started_pid. Sets podman_store, the flags that
# put a podman command on that store.
start_podman() {
  local dir=$1 tries=$((socket_wait_s * 20))
  podman_store=(--root "$dir/root" --runroot "$dir/runroot" --tmpdir "$dir/tmp" --storage-driver vfs
                --events-backend file --cgroup-manager cgroupfs)
  mkdir -p "$dir/tmp"
  podman "${podman_store[@]}" --log-level=info system service --time=0 "unix://$dir/podman.sock" \
    >"$dir/service.log" 2>&1 &
  started_pid=$!
  server_pids+=("$started_pid")
  until curl -sf -o /dev/null --unix-socket "$dir/podman.sock" http://d/_ping; do
    if ! kill -0 "$started_pid" 2>/dev/null; then
      tail -n 20 "$dir/service.log" >&2 || true
      die "podman system service exited (log above)"
    fi
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || die "podman system service did not answer on $dir/podman.sock within ${socket_wait_s} s"
    sleep 0.05
  done
}

# engine_requests LOG: how many API requests podman has logged so far (its
# access log writes a line when a request ends).
engine_requests() {
  grep -c ' HTTP/1\.[01]" [0-9]' "$1" || true
}

# ratio_text A B: A / B as "1234×" (one decimal below 10).
ratio_text() {
  awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; printf (r < 10 ? "%.1f×" : "%.0f×"), r }'
}

# EnsureImage of a present image through the docker backend, next to what a
# runner pays without the daemon: `docker image inspect` as a process against
# the same engine, once per call. The daemon's presence_ttl is 1 ms, so that
# only the cache the event stream keeps can answer without asking the
# engine; the section checks that no request reached the engine while
# EnsureImage was measured.
bench_docker() {
  echo
  if [ "$against_echo" = 1 ]; then
    echo "### docker: skipped (BENCH_AGAINST_ECHO=1: there is no sidecard to ask)"
    return
  fi
  if ! command -v podman >/dev/null; then
    echo "### docker: skipped, podman is not installed (scripts/install-deps.sh test installs it)"
    return
  fi
  command -v curl >/dev/null || die "the docker section needs curl"
  local dir engine_pid engine_version base base_label base_rate base_p50 base_p99 err
  local out rate p50 p99 conns depth cpu label before after tries calls verdict p50_ratio rate_ratio
  # Short: a socket path holds 107 bytes at most, and $TMPDIR may be long.
  dir=$(mktemp -d /tmp/pb-XXXXXX)
  short_dirs+=("$dir")
  local engine_sock="$dir/podman.sock" engine_log="$dir/service.log"
  # This section's own daemon, under the names run_loadgen and measure_daemon use.
  local daemon_sock="$dir/sidecar.sock" daemon_log="$dir/sidecard.log" daemon_pid
  local exists_runs=$docker_inspect_runs # time_command's number of runs
  local podman_store=()

  start_podman "$dir"
  engine_pid=$started_pid
  engine_version=$(curl -sf --unix-socket "$engine_sock" http://d/version | python3 -c '
import json, sys
v = json.load(sys.stdin)
print("podman %s, API %s" % (v.get("Version", "?"), v.get("ApiVersion", "?")))')

  mkdir -p "$dir/context" "$dir/state"
  printf 'FROM scratch\nCOPY file /file\n' >"$dir/context/Dockerfile"
  echo "a small file for the bench image" >"$dir/context/file"
  cat >"$dir/sidecar.toml" <<TOML
[images]
backend = "docker"
docker_socket = "$engine_sock"
presence_ttl = "1ms"  # without the event stream, every call would ask the engine
[[images.image]]
name = "agent"
ref = "$docker_ref"
context = "$dir/context"
TOML
  start_sidecard "$dir/sidecar.toml" "$daemon_sock" "$dir/state" "$daemon_log"
  daemon_pid=$started_pid

  # The one build, through the daemon: it proves the config and the backend.
  out=$("$release/sidecarctl" --socket "$daemon_sock" --json ensure-image agent) ||
    die "building $docker_ref through sidecard failed: $out"
  [[ $out =~ \"outcome\"[[:space:]]*:[[:space:]]*\"BUILT\" ]] ||
    die "the first EnsureImage of a missing image answered: $out"

  # The event stream comes up once the daemon has the engine's version
  # (podman can take half a second to answer /version). Until then, with a 1 ms
  # presence_ttl, each EnsureImage asks the engine; after, none does.
  tries=$((socket_wait_s * 5))
  calls=0
  while :; do
    calls=$((calls + 1))
    before=$(engine_requests "$engine_log")
    out=$(LOADGEN_IMAGE=agent "$bin/loadgen" --socket "$daemon_sock" --method EnsureImage --once) ||
      die "EnsureImage of $docker_ref failed (above)"
    [[ $out == *" outcome=PRESENT "* ]] || die "EnsureImage of a present image answered: $out"
    sleep 0.1 # podman logs a request just after answering it
    after=$(engine_requests "$engine_log")
    if [ "$after" = "$before" ]; then
      log "EnsureImage answered without asking the engine at call $calls: the event stream is up"
      break
    fi
    tries=$((tries - 1))
    if [ "$tries" -le 0 ]; then
      tail -n 20 "$daemon_log" >&2 || true
      die "after $calls calls EnsureImage still asks the engine each time: the daemon's event stream is not up (sidecard's log above)"
    fi
    sleep 0.1
  done

  # The baseline: the docker CLI, if there is one that works against
  # podman's API, else podman's own CLI on the same store.
  err="$dir/inspect.err"
  if ! command -v docker >/dev/null; then
    base="podman"
    base_label="\`podman image inspect\` (fallback: no docker CLI)"
  elif ! DOCKER_HOST="unix://$engine_sock" docker image inspect "$docker_ref" >/dev/null 2>"$err"; then
    log "docker image inspect against podman failed: $(head -n 3 "$err")"
    base="podman"
    base_label="\`podman image inspect\` (fallback: \`docker image inspect\` failed: $(head -n 1 "$err" | cut -c1-80))"
  else
    base="docker"
    base_label="\`docker image inspect\` ($(docker --version | head -n 1 | sed 's/^Docker version //; s/,.*//'))"
  fi

  echo "### docker: EnsureImage of a present image (images.backend = \"docker\", kept by events) next to ${base_label%% (*} as a process ($engine_version; target: ≥ ${docker_target}× faster per call)"
  echo
  echo "| scenario | calls/s | p50 us | p99 us | per call: baseline p50 ÷ this p50 | calls/s ÷ baseline's | target | Health calls/s, same daemon | ÷ Health (target ≥ 0.8, p99 ≤ 2×) |"
  echo "|---|---:|---:|---:|---:|---:|---|---:|---|"
  if [ "$base" = docker ]; then
    out=$(DOCKER_HOST="unix://$engine_sock" time_command "docker image inspect" 0 docker image inspect "$docker_ref")
  else
    out=$(time_command "podman image inspect" 0 podman "${podman_store[@]}" image inspect "$docker_ref")
  fi
  read -r base_rate base_p50 base_p99 <<<"$out"
  printf '| baseline: %s as a process, sequential (%s runs) | %.0f | %.1f | %.1f | 1.0× | 1.0× | |\n' \
    "$base_label" "$docker_inspect_runs" "$base_rate" "$base_p50" "$base_p99"
  out=$(time_command "curl GET image json" 0 curl -sf -o /dev/null --unix-socket "$engine_sock" \
          "http://d/v1.41/images/${docker_ref/\//%2F}/json")
  read -r rate p50 p99 <<<"$out"
  printf '| reference: `curl` GET /v1.41/images/…/json as a process, sequential (%s runs) | %.0f | %.1f | %.1f | %s | %s | |\n' \
    "$docker_inspect_runs" "$rate" "$p50" "$p99" "$(ratio_text "$base_p50" "$p50")" "$(ratio_text "$rate" "$base_rate")"

  before=$(engine_requests "$engine_log")
  for conns in 1 16; do
    depth=$conns
    cpu=""
    [ "$pin_sequential" = 1 ] && [ "$conns" = 1 ] && cpu=0
    measure_with_health agent "$conns" "$depth" ${cpu:+"$cpu"}
    read -r rate p50 p99 <<<"$ensure_out"
    read -r health _ health_p99 <<<"$health_out"
    p50_ratio=$(awk -v a="$base_p50" -v b="$p50" 'BEGIN { printf "%.2f", a / b }')
    rate_ratio=$(awk -v a="$rate" -v b="$base_rate" 'BEGIN { printf "%.2f", a / b }')
    verdict=""
    # The target is per call, one caller at a time, as the baseline runs:
    # on 16 x 16 the p50 is the wait behind 255 other calls.
    if [ "$conns" = 1 ]; then
      if awk -v p="$p50_ratio" -v r="$rate_ratio" -v t="$docker_target" 'BEGIN { exit !(p >= t && r >= t) }'; then
        verdict="≥ ${docker_target}×: PASS"
      else
        verdict="≥ ${docker_target}×: **FAIL**"
        targets_missed=$((targets_missed + 1))
      fi
    fi
    versus_health "$rate" "$p99" "$health" "$health_p99"
    label="EnsureImage, $conns conn$([ "$conns" = 1 ] || echo s), depth $depth${cpu:+, pinned}"
    printf '| %s | %.0f | %.1f | %.1f | %s | %s | %s | %.0f | %s |\n' "$label" "$rate" "$p50" "$p99" \
      "$(ratio_text "$base_p50" "$p50")" "$(ratio_text "$rate" "$base_rate")" "$verdict" "$health" "$versus_text"
  done
  sleep 0.1
  after=$(engine_requests "$engine_log")
  log "requests to the engine while EnsureImage was measured: $((after - before))"
  if [ "$after" != "$before" ]; then
    tail -n 20 "$daemon_log" >&2 || true
    die "$((after - before)) requests reached the engine while EnsureImage was measured: the cache was not kept by events, so these numbers are not the cache's (sidecard's log above)"
  fi

  stop_server "$daemon_pid"
  stop_server "$engine_pid"
  rm -rf "$dir"
}

# ---- oci -------------------------------------------------------------------

readonly oci_ref="big:1"              # the image's ref in sidecard's layout
readonly oci_repository="bench/big:1" # and its repository in the registry

# free_port: a TCP port on 127.0.0.1 that nothing listened on just now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry DIR: `docker-registry serve` on a free port of 127.0.0.1,
# storing under DIR/data, ready to answer; its pid in started_pid, its
# "127.0.0.1:PORT" in registry_host.
start_registry() {
  local dir=$1 tries=$((socket_wait_s * 20))
  registry_host="127.0.0.1:$(free_port)"
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: $registry_host
YAML
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  started_pid=$!
  server_pids+=("$started_pid")
  until curl -sf -o /dev/null "http://$registry_host/v2/"; do
    if ! kill -0 "$started_pid" 2>/dev/null; then
      tail -n 20 "$dir/registry.log" >&2 || true
      die "docker-registry exited (log above)"
    fi
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || die "docker-registry did not answer on $registry_host within ${socket_wait_s} s"
    sleep 0.05
  done
}

# oci_blobs LAYOUT REF: the blob files that REF reaches in the OCI layout
# (manifest, config, layers), one path a line. Fails unless REF is in
# index.json once and every blob has the size its descriptor gives.
oci_blobs() {
  python3 - "$1" "$2" <<'PY'
import json, os, sys
layout, ref = sys.argv[1], sys.argv[2]

def path(descriptor):
    algorithm, _, encoded = descriptor["digest"].partition(":")
    p = os.path.join(layout, "blobs", algorithm, encoded)
    if os.path.getsize(p) != descriptor["size"]:
        sys.exit("%s: %d bytes, its descriptor says %d" % (p, os.path.getsize(p), descriptor["size"]))
    return p

with open(os.path.join(layout, "index.json")) as f:
    entries = [m for m in json.load(f).get("manifests", [])
               if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref]
if len(entries) != 1:
    sys.exit("%s: %d entries in %s/index.json, not 1" % (ref, len(entries), layout))
with open(path(entries[0])) as f:
    manifest = json.load(f)
for descriptor in [entries[0], manifest["config"]] + manifest["layers"]:
    print(path(descriptor))
PY
}

# ensure_image_ms SOCKET OUTCOME: runs `sidecarctl --json ensure-image big`
# and prints how long it took, in ms; fails unless it answered OUTCOME.
ensure_image_ms() {
  local start end answer
  start=$(now_ns)
  answer=$("$release/sidecarctl" --socket "$1" --json ensure-image big) ||
    die "sidecarctl ensure-image big failed: $answer"
  end=$(now_ns)
  [[ $answer =~ \"outcome\"[[:space:]]*:[[:space:]]*\"$2\" ]] || die "ensure-image big answered, not $2: $answer"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}

# read_bytes PID: the bytes PID's threads have read so far (rchar: read(2)
# and the like, page cache hits included).
read_bytes() {
  awk '$1 == "rchar:" { print $2 }' "/proc/$1/io"
}

# hash_ms SUMS COMMAND...: runs COMMAND (a sha256 tool over blob files,
# printing "HEX PATH" lines) with its output in SUMS and prints how long it
# took, in ms; fails unless every HEX is its file's name (a blob's name is
# its digest), so that a tool that read nothing cannot pass for a fast one.
hash_ms() {
  local sums=$1 start end
  shift
  start=$(now_ns)
  "$@" >"$sums" || die "$1 of the blobs failed"
  end=$(now_ns)
  awk '{ n = split($2, p, "/"); if ($1 != p[n]) bad++ } END { exit !(NR > 0 && bad == 0) }' "$sums" ||
    die "$1 disagrees with the blobs' names: $(cat "$sums")"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}

# EnsureImage through the OCI layout backend (the default). Per call: the
# present image, verified once and then answered from the presence cache
# (a few stats per presence_ttl), next to `skopeo inspect` of the same
# layout as a process, which reads index.json, the manifest and the config
# but hashes no layer. Then what a check that does hash every layer costs:
# the first EnsureImage of a fresh daemon (the verification cache lives in
# memory), in MB/s next to sha256sum of the same files, and to `openssl
# dgst -sha256` (libcrypto, which sidecard hashes with) when there is one.
bench_oci() {
  echo
  if [ "$against_echo" = 1 ]; then
    echo "### oci: skipped (BENCH_AGAINST_ECHO=1: there is no sidecard to ask)"
    return
  fi
  local tool missing=""
  for tool in skopeo docker-registry curl; do
    command -v "$tool" >/dev/null || missing+=" $tool"
  done
  if [ -n "$missing" ]; then
    echo "### oci: skipped, missing:$missing (scripts/install-deps.sh test installs them)"
    return
  fi
  local dir state registry_pid registry_host layer_bytes blobs=() bytes mb out
  local rate p50 p99 base_rate base_p50 base_p99 conns depth cpu label
  local read_before read_after round who order first second firsts=() seconds_list=() diffs=() shas=() ssls=() tools="sha256sum"
  local sha_ms ssl_ms first_ms second_ms diff_ms sha_mbs ssl_mbs daemon_mbs
  # Short: a socket path holds 107 bytes at most, and $TMPDIR may be long.
  dir=$(mktemp -d /tmp/po-XXXXXX)
  short_dirs+=("$dir")
  state="$dir/state"
  # This section's own daemon, under the names run_loadgen and measure_daemon use.
  local daemon_sock="$dir/sidecar.sock" daemon_log="$dir/sidecard.log" daemon_pid
  local exists_runs=$oci_inspect_runs # time_command's number of runs

  start_registry "$dir/registry"
  registry_pid=$started_pid
  layer_bytes=$((oci_mb * 1048576 / 2))
  log "making a ${oci_mb} MiB image ($oci_repository, two layers) and pushing it to $registry_host"
  python3 "$root/Tests/Fixtures/oci_fixture.py" "$dir/make" "$oci_repository" "big-a:$layer_bytes" "big-b:$layer_bytes"
  skopeo copy --quiet --dest-tls-verify=false "oci:$dir/make:$oci_repository" \
    "docker://$registry_host/$oci_repository" >&2 || die "pushing the image to docker-registry failed"
  rm -rf "$dir/make"

  mkdir -p "$state"
  cat >"$dir/sidecar.toml" <<TOML
[images]
backend = "oci-layout"  # the default: the layout is <state_dir>/oci
insecure_registries = ["$registry_host"]
presence_ttl = "5s"     # the default: a presence check is trusted this long
[[images.image]]
name = "big"
ref = "$oci_ref"
pull = "$registry_host/$oci_repository"
TOML
  start_sidecard "$dir/sidecar.toml" "$daemon_sock" "$state" "$daemon_log"
  daemon_pid=$started_pid

  # The one pull, through the daemon: it proves the config and the backend.
  out=$(ensure_image_ms "$daemon_sock" PULLED)
  log "pulled $oci_ref through sidecard in $out ms"
  # From here on nothing can come from the registry: a call that pulled
  # again would fail the run instead of passing for a verification.
  stop_server "$registry_pid"
  rm -rf "$dir/registry"
  out=$(oci_blobs "$state/oci" "$oci_ref") || die "the pulled layout is not as expected (above)"
  mapfile -t blobs <<<"$out"
  bytes=$(stat -c %s "${blobs[@]}" | awk '{ s += $1 } END { print s }')
  mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')

  # One call first: it must find the image present; the pull verified it,
  # so this one is answered from the verification cache.
  out=$(LOADGEN_IMAGE=big "$bin/loadgen" --socket "$daemon_sock" --method EnsureImage --once) ||
    die "EnsureImage of big failed (above)"
  [[ $out == *" outcome=PRESENT "* ]] || die "EnsureImage of a present image answered: $out"

  echo "### oci: EnsureImage of a present, verified image (images.backend = \"oci-layout\", presence_ttl = 5 s, $mb MB) next to \`skopeo inspect\` of the same layout as a process"
  echo
  echo "| scenario | calls/s | p50 us | p99 us | per call: baseline p50 ÷ this p50 | calls/s ÷ baseline's | Health calls/s, same daemon | ÷ Health (target ≥ 0.8, p99 ≤ 2×) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  out=$(time_command "skopeo inspect" 0 skopeo inspect "oci:$state/oci:$oci_ref")
  read -r base_rate base_p50 base_p99 <<<"$out"
  printf '| baseline: `skopeo inspect oci:…:%s` (%s) as a process, sequential (%s runs) | %.0f | %.1f | %.1f | 1.0× | 1.0× | | |\n' \
    "$oci_ref" "$(skopeo --version | sed 's/^skopeo version/skopeo/')" "$oci_inspect_runs" "$base_rate" "$base_p50" "$base_p99"
  for conns in 1 16; do
    depth=$conns
    cpu=""
    [ "$pin_sequential" = 1 ] && [ "$conns" = 1 ] && cpu=0
    measure_with_health big "$conns" "$depth" ${cpu:+"$cpu"}
    read -r rate p50 p99 <<<"$ensure_out"
    read -r health _ health_p99 <<<"$health_out"
    versus_health "$rate" "$p99" "$health" "$health_p99"
    label="EnsureImage, $conns conn$([ "$conns" = 1 ] || echo s), depth $depth${cpu:+, pinned}"
    printf '| %s | %.0f | %.1f | %.1f | %s | %s | %.0f | %s |\n' "$label" "$rate" "$p50" "$p99" \
      "$(ratio_text "$base_p50" "$p50")" "$(ratio_text "$rate" "$base_rate")" "$health" "$versus_text"
  done
  stop_server "$daemon_pid"

  # The first full verification. Each round, a fresh daemon on the same
  # state dir (nothing verified yet in its memory) answers PRESENT only
  # after hashing every blob; the second call, right after, is answered from
  # the presence cache: the fixed cost of sidecarctl's round trip, which the
  # MB/s leaves out. sha256sum reads the same files. Both read from the page
  # cache (the blobs were just written, and each run follows a cat of them).
  command -v openssl >/dev/null && tools+=" openssl"
  for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="$tools daemon"; else order="daemon $tools"; fi
    for who in $order; do
      cat "${blobs[@]}" >/dev/null
      if [ "$who" = sha256sum ]; then
        shas+=("$(hash_ms "$dir/sums" sha256sum "${blobs[@]}")")
        log "first verification, round $round/$rounds: sha256sum ${shas[-1]} ms"
      elif [ "$who" = openssl ]; then
        ssls+=("$(hash_ms "$dir/sums" openssl dgst -sha256 -r "${blobs[@]}")")
        log "first verification, round $round/$rounds: openssl dgst -sha256 ${ssls[-1]} ms"
      else
        daemon_log="$dir/sidecard-$round.log"
        start_sidecard "$dir/sidecar.toml" "$daemon_sock" "$state" "$daemon_log"
        daemon_pid=$started_pid
        read_before=$(read_bytes "$daemon_pid")
        first=$(ensure_image_ms "$daemon_sock" PRESENT)
        read_after=$(read_bytes "$daemon_pid")
        second=$(ensure_image_ms "$daemon_sock" PRESENT)
        stop_server "$daemon_pid"
        # It hashes with read(2), which the kernel counts: it must have read
        # every blob, or it answered from something other than the files.
        [ $((read_after - read_before)) -ge "$bytes" ] ||
          die "a fresh daemon read $((read_after - read_before)) bytes to verify $bytes bytes of blobs"
        awk -v a="$first" -v b="$second" 'BEGIN { exit !(a > b) }' ||
          die "a fresh daemon's first ensure-image ($first ms) was not slower than the second ($second ms): it cannot have hashed $mb MB"
        firsts+=("$first")
        seconds_list+=("$second")
        diffs+=("$(awk -v a="$first" -v b="$second" 'BEGIN { printf "%.1f", a - b }')")
        log "first verification, round $round/$rounds: fresh sidecard first call $first ms (read $((read_after - read_before)) bytes), second $second ms"
      fi
    done
  done
  sha_ms=$(median "${shas[@]}")
  first_ms=$(median "${firsts[@]}")
  second_ms=$(median "${seconds_list[@]}")
  diff_ms=$(median "${diffs[@]}")
  sha_mbs=$(awk -v b="$bytes" -v ms="$sha_ms" 'BEGIN { printf "%.0f", b / 1e6 / (ms / 1e3) }')
  daemon_mbs=$(awk -v b="$bytes" -v ms="$diff_ms" 'BEGIN { printf "%.0f", b / 1e6 / (ms / 1e3) }')

  echo
  echo "### oci: first full verification of the image (${#blobs[@]} blobs, $mb MB) by a fresh sidecard, next to sha256sum of the same files (all from the page cache)"
  echo
  echo "| run | ms | MB/s | MB/s ÷ sha256sum's |"
  echo "|---|---:|---:|---:|"
  printf '| `sha256sum` of the %s blob files, as a process (%s) | %.1f | %s | 1.00 |\n' "${#blobs[@]}" \
    "$(sha256sum --version | head -n 1 | sed 's/^sha256sum (GNU coreutils)/coreutils/')" "$sha_ms" "$sha_mbs"
  if [ ${#ssls[@]} -gt 0 ]; then
    ssl_ms=$(median "${ssls[@]}")
    ssl_mbs=$(awk -v b="$bytes" -v ms="$ssl_ms" 'BEGIN { printf "%.0f", b / 1e6 / (ms / 1e3) }')
    printf '| reference: `openssl dgst -sha256` of the same files, as a process (%s; libcrypto, as in sidecard) | %.1f | %s | %s |\n' \
      "$(openssl version | awk '{ print $1, $2 }')" "$ssl_ms" "$ssl_mbs" \
      "$(awk -v a="$ssl_mbs" -v b="$sha_mbs" 'BEGIN { printf "%.2f", a / b }')"
  fi
  printf '| fresh sidecard: first `sidecarctl ensure-image big` (PRESENT after hashing every blob) | %.1f | | |\n' "$first_ms"
  printf '| the same sidecard: second `sidecarctl ensure-image big` (presence cache; the CLI round trip) | %.1f | | |\n' "$second_ms"
  printf '| sidecard'\''s verification: first − second | %.1f | %s | %s |\n' "$diff_ms" "$daemon_mbs" \
    "$(awk -v a="$daemon_mbs" -v b="$sha_mbs" 'BEGIN { printf "%.2f", a / b }')"
  rm -rf "$dir"
}

# ---- python ----------------------------------------------------------------

# The Python client next to loadgen on the same daemon, alternating, rounds
# times: health() from the blocking Client, one call after the other (and
# loadgen with 1 connection, depth 1; both pinned with the daemon on CPU 0
# when BENCH_PIN_SEQUENTIAL=1), then 64 health() in flight from one
# AsyncClient (and loadgen with 1 connection, depth 64). Each Python call is
# timed on its own by clients/python/benchmarks/health_bench.py, which
# prints loadgen's line. Target: the blocking client adds at most 40 us to
# the p50 of a sequential call.
bench_python() {
  echo
  if [ "$against_echo" = 1 ]; then
    echo "### python: skipped (BENCH_AGAINST_ECHO=1: an echo server does not answer Health)"
    return
  fi
  local py=/usr/bin/python3 script="$root/clients/python/benchmarks/health_bench.py"
  if ! "$py" -c 'import google.protobuf' 2>/dev/null; then
    echo "### python: skipped (no python3-protobuf for $py; scripts/install-deps.sh test installs it)"
    return
  fi
  local round who order line cpu="" pin=() scenario
  local seq_c_rate=() seq_c_p50=() seq_c_p99=() seq_p_rate=() seq_p_p50=() seq_p_p99=()
  local con_c_rate=() con_c_p50=() con_c_p99=() con_p_rate=() con_p_p50=() con_p_p99=()
  [ "$pin_sequential" = 1 ] && cpu=0
  [ -z "$cpu" ] || pin=(taskset -c "$cpu")
  for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="loadgen python"; else order="python loadgen"; fi
    for scenario in sequential concurrent; do
      for who in $order; do
        if [ "$scenario" = sequential ]; then
          [ -z "$cpu" ] || pin_server "$daemon_pid" "$cpu"
          if [ "$who" = loadgen ]; then
            line=$(run_loadgen "$daemon_sock" Health 1 1 "$cpu")
          else
            line=$("${pin[@]}" "$py" "$script" --socket "$daemon_sock" --mode sync \
                     --seconds "$seconds" --warmup "$warmup") || die "health_bench.py (sync) failed"
          fi
          [ -z "$cpu" ] || pin_server "$daemon_pid" "$all_cpus"
        elif [ "$who" = loadgen ]; then
          line=$(run_loadgen "$daemon_sock" Health 1 64)
        else
          line=$("$py" "$script" --socket "$daemon_sock" --mode async --concurrency 64 \
                   --seconds "$seconds" --warmup "$warmup") || die "health_bench.py (async) failed"
        fi
        log "python: $scenario, round $round/$rounds, $who: $line"
        if [ "$scenario/$who" = sequential/loadgen ]; then
          seq_c_rate+=("$(field calls_per_s "$line")"); seq_c_p50+=("$(field p50_us "$line")"); seq_c_p99+=("$(field p99_us "$line")")
        elif [ "$scenario" = sequential ]; then
          seq_p_rate+=("$(field calls_per_s "$line")"); seq_p_p50+=("$(field p50_us "$line")"); seq_p_p99+=("$(field p99_us "$line")")
        elif [ "$who" = loadgen ]; then
          con_c_rate+=("$(field calls_per_s "$line")"); con_c_p50+=("$(field p50_us "$line")"); con_c_p99+=("$(field p99_us "$line")")
        else
          con_p_rate+=("$(field calls_per_s "$line")"); con_p_p50+=("$(field p50_us "$line")"); con_p_p99+=("$(field p99_us "$line")")
        fi
      done
    done
  done
  local pr pp50 pp99 cr cp50 cp99 added verdict
  echo "### python: the Python client (clients/python) next to the C loadgen, Health on the same daemon (target: Client adds ≤ 40 us to the sequential p50)"
  echo
  echo "| scenario | Python calls/s | p50 us | p99 us | loadgen calls/s | p50 us | p99 us | calls/s ratio | p50 added, us | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  pr=$(median "${seq_p_rate[@]}"); pp50=$(median "${seq_p_p50[@]}"); pp99=$(median "${seq_p_p99[@]}")
  cr=$(median "${seq_c_rate[@]}"); cp50=$(median "${seq_c_p50[@]}"); cp99=$(median "${seq_c_p99[@]}")
  added=$(awk -v a="$pp50" -v b="$cp50" 'BEGIN { printf "%.1f", a - b }')
  if awk -v d="$added" 'BEGIN { exit !(d <= 40) }'; then
    verdict="≤ 40 us: met"
  else
    verdict="≤ 40 us: **not met**"
    targets_missed=$((targets_missed + 1))
  fi
  printf '| `Client.health()` sequential; loadgen 1 conn, depth 1%s | %.0f | %.1f | %.1f | %.0f | %.1f | %.1f | %s | %s | %s |\n' \
    "${cpu:+, pinned}" "$pr" "$pp50" "$pp99" "$cr" "$cp50" "$cp99" \
    "$(awk -v a="$pr" -v b="$cr" 'BEGIN { printf "%.2f", a / b }')" "$added" "$verdict"
  pr=$(median "${con_p_rate[@]}"); pp50=$(median "${con_p_p50[@]}"); pp99=$(median "${con_p_p99[@]}")
  cr=$(median "${con_c_rate[@]}"); cp50=$(median "${con_c_p50[@]}"); cp99=$(median "${con_c_p99[@]}")
  printf '| `AsyncClient.health()` × 64 concurrent, 1 connection; loadgen 1 conn, depth 64 | %.0f | %.1f | %.1f | %.0f | %.1f | %.1f | %s | %s | |\n' \
    "$pr" "$pp50" "$pp99" "$cr" "$cp50" "$cp99" \
    "$(awk -v a="$pr" -v b="$cr" 'BEGIN { printf "%.2f", a / b }')" \
    "$(awk -v a="$pp50" -v b="$cp50" 'BEGIN { printf "%.1f", a - b }')"
}

# ---- ts --------------------------------------------------------------------

# run_ts SOCKET METHOD DEPTH [CPU]: bench.mjs's one line (loadgen's format);
# with CPU, node runs on that CPU only.
run_ts() {
  local out pin=()
  [ -z "${4:-}" ] || pin=(taskset -c "$4")
  if ! out=$("${pin[@]}" node "$root/clients/typescript/bench/bench.mjs" --socket "$1" --method "$2" --depth "$3" \
               --seconds "$seconds" --warmup "$warmup"); then
    tail -n 20 "$daemon_log" >&2 || true
    die "the TypeScript client failed against $1 ($2, depth $3; sidecard's log above)"
  fi
  echo "$out"
}

# client_compare CLIENT RUN P50_US RATIO LABEL METHOD DEPTH: loadgen (1
# connection, DEPTH in flight) and a client library's bench (RUN SOCKET
# METHOD DEPTH [CPU], loadgen's line format), rounds times, alternating which
# goes first; prints a row. Depth 1 is pinned with the daemon
# (BENCH_PIN_SEQUENTIAL) and held to adding at most P50_US to loadgen's p50,
# deeper rows to at least RATIO of loadgen's calls/s.
client_compare() {
  local client=$1 run=$2 p50_target=$3 ratio_target=$4 label=$5 method=$6 depth=$7 cpu="" round who line order
  local l_rate=() l_p50=() l_p99=() c_rate=() c_p50=() c_p99=()
  [ "$pin_sequential" = 1 ] && [ "$depth" = 1 ] && cpu=0
  for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order="loadgen $client"; else order="$client loadgen"; fi
    for who in $order; do
      [ -z "$cpu" ] || pin_server "$daemon_pid" "$cpu"
      if [ "$who" = loadgen ]; then
        line=$(run_loadgen "$daemon_sock" "$method" 1 "$depth" "$cpu")
        l_rate+=("$(field calls_per_s "$line")"); l_p50+=("$(field p50_us "$line")"); l_p99+=("$(field p99_us "$line")")
      else
        line=$("$run" "$daemon_sock" "$method" "$depth" "$cpu")
        c_rate+=("$(field calls_per_s "$line")"); c_p50+=("$(field p50_us "$line")"); c_p99+=("$(field p99_us "$line")")
      fi
      [ -z "$cpu" ] || pin_server "$daemon_pid" "$all_cpus"
      log "$client: $label, round $round/$rounds, $who: $line"
    done
  done
  local lr lp cr cp ratio added verdict
  lr=$(median "${l_rate[@]}"); lp=$(median "${l_p50[@]}")
  cr=$(median "${c_rate[@]}"); cp=$(median "${c_p50[@]}")
  ratio=$(awk -v a="$cr" -v b="$lr" 'BEGIN { printf "%.2f", a / b }')
  added=$(awk -v a="$cp" -v b="$lp" 'BEGIN { printf "%.1f", a - b }')
  if [ "$depth" = 1 ]; then
    if awk -v x="$added" -v t="$p50_target" 'BEGIN { exit !(x <= t) }'; then verdict="p50 +≤ $p50_target us: met"
    else verdict="p50 +≤ $p50_target us: **not met**"; targets_missed=$((targets_missed + 1)); fi
  else
    if awk -v r="$ratio" -v t="$ratio_target" 'BEGIN { exit !(r >= t) }'; then verdict="≥ $ratio_target: met"
    else verdict="≥ $ratio_target: **not met**"; targets_missed=$((targets_missed + 1)); fi
  fi
  printf '| %s%s | %.0f | %.1f | %.1f | %.0f | %.1f | %.1f | %s | %s | %s |\n' "$label" "${cpu:+, pinned}" \
    "$lr" "$lp" "$(median "${l_p99[@]}")" "$cr" "$cp" "$(median "${c_p99[@]}")" "$ratio" "$added" "$verdict"
}

# The TypeScript client next to the C loadgen on the same daemon: what the
# client (V8, node's event loop, the generated codec) adds per call.
bench_ts() {
  echo
  if [ "$against_echo" = 1 ]; then
    echo "### ts: skipped (BENCH_AGAINST_ECHO=1: there is no sidecard to ask)"
    return
  fi
  if ! command -v node >/dev/null || ! command -v tsc >/dev/null; then
    echo "### ts: skipped (needs node and tsc: scripts/install-deps.sh test)"
    return
  fi
  local fixture="$root/Tests/Fixtures/image_store.sh" dir="$tmp/ts" out method
  local daemon_sock="$tmp/ts/sidecar.sock" daemon_log="$tmp/ts/sidecard.log" daemon_pid
  local loadgen_flags=(--check-replies)
  (cd "$root/clients/typescript" && tsc -p .) >&2 || die "tsc failed on clients/typescript"
  images_setup "$dir" "\"$fixture\", \"build\", \"$dir/store\", \"agent\""
  touch "$dir/store/agent"
  start_sidecard "$dir/sidecar.toml" "$daemon_sock" "$dir/state" "$daemon_log"
  daemon_pid=$started_pid
  out=$(LOADGEN_IMAGE=agent "$bin/loadgen" --socket "$daemon_sock" --method EnsureImage --once) ||
    die "the first EnsureImage failed (above)"
  [[ $out == *" outcome=PRESENT "* ]] || die "EnsureImage of a present image answered: $out"

  echo "### ts: the TypeScript client (node $(node --version)) next to the C loadgen, same daemon, one connection (targets: p50 + ≤ 30 us sequential, ≥ 0.4 of loadgen's calls/s at depth 64)"
  echo
  echo "| scenario | loadgen calls/s | p50 us | p99 us | TS calls/s | p50 us | p99 us | TS ÷ loadgen calls/s | TS p50 − loadgen p50, us | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for method in Health EnsureImage; do
    LOADGEN_IMAGE=agent client_compare ts run_ts 30 0.4 "$method, 1 conn, sequential" "$method" 1
    LOADGEN_IMAGE=agent client_compare ts run_ts 30 0.4 "$method, 1 conn, 64 in flight" "$method" 64
  done
  stop_server "$daemon_pid"
}

# ---- go --------------------------------------------------------------------

# run_go SOCKET METHOD DEPTH [CPU]: clients/go/bench's one line (loadgen's
# format); with CPU, it runs on that CPU only (and so GOMAXPROCS is 1).
run_go() {
  local out pin=()
  [ -z "${4:-}" ] || pin=(taskset -c "$4")
  if ! out=$("${pin[@]}" "$go_bench" --socket "$1" --method "$2" --depth "$3" \
               --seconds "$seconds" --warmup "$warmup"); then
    tail -n 20 "$daemon_log" >&2 || true
    die "the Go client failed against $1 ($2, depth $3; sidecard's log above)"
  fi
  echo "$out"
}

# The Go client next to the C loadgen on the same daemon: what the client
# (goroutines, the runtime's poller, protobuf-go) adds per call.
bench_go() {
  echo
  if [ "$against_echo" = 1 ]; then
    echo "### go: skipped (BENCH_AGAINST_ECHO=1: there is no sidecard to ask)"
    return
  fi
  if ! command -v go >/dev/null; then
    echo "### go: skipped (needs go: scripts/install-deps.sh test)"
    return
  fi
  local fixture="$root/Tests/Fixtures/image_store.sh" dir="$tmp/go" out method go_bench="$tmp/go/bench"
  local daemon_sock="$tmp/go/sidecar.sock" daemon_log="$tmp/go/sidecard.log" daemon_pid
  local loadgen_flags=(--check-replies)
  mkdir -p "$dir"
  # shellcheck source=../clients/go/scripts/goenv.sh
  (source "$root/clients/go/scripts/goenv.sh" && cd "$root/clients/go" && go build -o "$go_bench" ./bench) >&2 ||
    die "go build of clients/go/bench failed"
  images_setup "$dir" "\"$fixture\", \"build\", \"$dir/store\", \"agent\""
  touch "$dir/store/agent"
  start_sidecard "$dir/sidecar.toml" "$daemon_sock" "$dir/state" "$daemon_log"
  daemon_pid=$started_pid
  out=$(LOADGEN_IMAGE=agent "$bin/loadgen" --socket "$daemon_sock" --method EnsureImage --once) ||
    die "the first EnsureImage failed (above)"
  [[ $out == *" outcome=PRESENT "* ]] || die "EnsureImage of a present image answered: $out"

  echo "### go: the Go client ($(go version | awk '{ print $3 }')) next to the C loadgen, same daemon, one connection (targets: p50 + ≤ 15 us sequential, ≥ 0.6 of loadgen's calls/s at depth 64)"
  echo
  echo "| scenario | loadgen calls/s | p50 us | p99 us | Go calls/s | p50 us | p99 us | Go ÷ loadgen calls/s | Go p50 − loadgen p50, us | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for method in Health EnsureImage; do
    LOADGEN_IMAGE=agent client_compare go run_go 15 0.6 "$method, 1 conn, sequential" "$method" 1
    LOADGEN_IMAGE=agent client_compare go run_go 15 0.6 "$method, 1 conn, 64 goroutines" "$method" 64
  done
  stop_server "$daemon_pid"
}

# ---- hooks -----------------------------------------------------------------

# A container start (podman run --rm of a FROM scratch busybox image, runc,
# no network) with no hooks dir, with sidecarctl hook installed as
# docs/hooks/podman documents it (run only for containers with a sidecar.*
# annotation), and installed for every container ("always": the hook runs
# twice per start and exits at once without an annotation). Target: the
# documented install adds at most 5 ms to the median start; "always" is
# reported next to it (it costs sidecarctl's own start-up, twice).
bench_hooks() {
  echo
  local dir="$tmp/hooks" exists_runs=$hooks_runs out rate p50 p99 base_p50 label hooks_dir stages
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
    echo "### hooks: skipped (needs podman, runc and busybox-static)"
    return
  fi
  local store=(--root "$dir/root" --runroot "$dir/runroot" --tmpdir "$dir/tmp" --storage-driver vfs
               --events-backend file --cgroup-manager cgroupfs)
  mkdir -p "$dir/image/bin" "$dir/tmp" "$dir/none" "$dir/documented" "$dir/always"
  cp /bin/busybox "$dir/image/bin/busybox"
  ln -sf busybox "$dir/image/bin/true"
  printf 'FROM scratch\nCOPY bin/ /bin/\n' >"$dir/image/Containerfile"
  podman "${store[@]}" build --quiet -t localhost/hooks-bench:1 "$dir/image" >/dev/null || die "hooks: podman build failed"
  for stages in prestart poststop; do
    sed -e "s|/usr/local/bin/sidecarctl|$release/sidecarctl|" "$root/docs/hooks/podman/sidecar-$stages.json" \
      >"$dir/documented/sidecar-$stages.json"
    sed -e "s|/usr/local/bin/sidecarctl|$release/sidecarctl|" -e '/"when"/c\  "when": { "always": true },' \
      "$root/docs/hooks/podman/sidecar-$stages.json" >"$dir/always/sidecar-$stages.json"
    grep -q '"always": true' "$dir/always/sidecar-$stages.json" || die "hooks: could not write the always-on hook"
  done
  echo "### hooks: container starts (podman run --rm, runc, vfs), no annotation, next to the same starts without the hook (target: the documented install adds ≤ 5 ms to the p50)"
  echo
  echo "| hooks dir | starts/s | p50 ms | p99 ms | p50 added, ms | target |"
  echo "|---|---:|---:|---:|---:|---|"
  for hooks_dir in none documented always; do
    out=$(time_command "podman run, hooks: $hooks_dir" 0 podman "${store[@]}" --hooks-dir "$dir/$hooks_dir" run --rm \
            --runtime runc --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/hooks-bench:1 /bin/true)
    read -r rate p50 p99 <<<"$out"
    case $hooks_dir in
      none) label="none (no hook)"; base_p50=$p50 ;;
      documented) label='`docs/hooks/podman` (run for `sidecar.*` annotations)' ;;
      always) label='the same with `"always": true` (runs `sidecarctl hook` twice per start)' ;;
    esac
    local added verdict=""
    added=$(awk -v a="$p50" -v b="$base_p50" 'BEGIN { printf "%.1f", (a - b) / 1000 }')
    if [ "$hooks_dir" = documented ]; then
      if awk -v x="$added" 'BEGIN { exit !(x <= 5) }'; then verdict="≤ 5 ms: met"; else verdict="≤ 5 ms: **not met**"; targets_missed=$((targets_missed + 1)); fi
    fi
    printf '| %s | %.1f | %.1f | %.1f | %s | %s |\n' "$label" "$rate" "$(awk -v x="$p50" 'BEGIN { print x / 1000 }')" \
      "$(awk -v x="$p99" 'BEGIN { print x / 1000 }')" "$([ "$hooks_dir" = none ] && echo "" || echo "$added")" "$verdict"
  done
  rm -rf "$dir" 2>/dev/null || true
}

# start_postgres DIR PORT: a PostgreSQL cluster of its own in DIR (owned by
# the postgres user, which it must run as), database "sidecar", on
# 127.0.0.1:PORT; pg_ctl's output in DIR/log.
start_postgres() {
  local dir=$1 port=$2 pgbin=/usr/lib/postgresql/15/bin
  mkdir -p "$dir" && chown postgres "$dir"
  runuser -u postgres -- "$pgbin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start </dev/null >/dev/null 2>&1 ||
    die "PostgreSQL did not start: $(tail -n 5 "$dir/log")"
  psql -X -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE sidecar" >/dev/null ||
    die "cannot create the sidecar database"
}

stop_postgres() { # stop_postgres DIR
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$1/data" -m immediate stop </dev/null >/dev/null 2>&1 || true
}

# ReserveRetrySlot from the fleet's ledger in PostgreSQL next to the local
# ledger (the main sidecard), on the same loadgen, alternating.
bench_fleet() {
  echo
  if [ ! -x /usr/lib/postgresql/15/bin/postgres ] || [ "$against_echo" = 1 ]; then
    echo "### fleet: skipped (no PostgreSQL, or BENCH_AGAINST_ECHO=1)"
    return
  fi
  local dir port sock log_file fleet_pid conns local_line fleet_line lr lp50 lp99 fr fp50 fp99 verdict rows
  dir=$(mktemp -d /tmp/sc-fleet.XXXXXX)
  chmod 755 "$dir"
  short_dirs+=("$dir")
  port=$(free_port)
  start_postgres "$dir/pg" "$port"
  sock="$dir/sidecar.sock"
  log_file="$dir/sidecard.log"
  cp "$tmp/sidecar.toml" "$dir/sidecar.toml"
  cat >>"$dir/sidecar.toml" <<TOML
[fleet]
postgres = "host=127.0.0.1 port=$port dbname=sidecar user=postgres"
host_id = "bench"
TOML
  start_sidecard "$dir/sidecar.toml" "$sock" "$dir/state" "$log_file"
  fleet_pid=$started_pid
  for _ in $(seq 100); do
    "$release/sidecarctl" --socket "$sock" fleet status >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$release/sidecarctl" --socket "$sock" fleet status >/dev/null || die "the fleet sidecard never connected: $(tail -n 5 "$log_file")"

  echo "### fleet: ReserveRetrySlot from the fleet's ledger in PostgreSQL 15 (one host, one connection, fsync on) next to the local ledger (target: ≥ 2,000/s at p99 ≤ 10 ms from 16 connections)"
  echo
  echo "| connections | local calls/s | p50 us | p99 us | fleet calls/s | p50 us | p99 us | fleet ÷ local | target |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for conns in 1 16; do
    local_line=$(measure_daemon ReserveRetrySlot "$conns" 1)
    read -r lr lp50 lp99 <<<"$local_line"
    local saved_sock=$daemon_sock saved_pid=$daemon_pid saved_log=$daemon_log
    daemon_sock=$sock daemon_pid=$fleet_pid daemon_log=$log_file
    fleet_line=$(measure_daemon ReserveRetrySlot "$conns" 1)
    daemon_sock=$saved_sock daemon_pid=$saved_pid daemon_log=$saved_log
    read -r fr fp50 fp99 <<<"$fleet_line"
    verdict=""
    if [ "$conns" = 16 ]; then
      if awk -v r="$fr" -v p="$fp99" 'BEGIN { exit !(r >= 2000 && p <= 10000) }'; then verdict="≥ 2,000/s, p99 ≤ 10 ms: met"; else
        verdict="≥ 2,000/s, p99 ≤ 10 ms: **not met**"; targets_missed=$((targets_missed + 1)); fi
    fi
    printf '| %s | %.0f | %.1f | %.1f | %.0f | %.1f | %.1f | %.2f | %s |\n' "$conns" "$lr" "$lp50" "$lp99" "$fr" "$fp50" "$fp99" \
      "$(awk -v a="$fr" -v b="$lr" 'BEGIN { printf "%.2f", a / b }')" "$verdict"
  done
  # Every grant was one the fleet's row holds.
  rows=$(psql -X -A -t -h 127.0.0.1 -p "$port" -U postgres -d sidecar -c "SELECT attempts FROM sidecar_retry_keys WHERE key = 'bench:reserve'")
  [ -n "$rows" ] && [ "$rows" -gt 0 ] || die "the fleet's ledger holds no grants for bench:reserve"
  echo
  echo "The fleet's row for the benchmark's key holds $rows grants after the run."

  # Degraded: PostgreSQL stopped, the same load answered by the host's own
  # ledger; the loop's largest lag over the run, from the metrics.
  stop_postgres "$dir/pg"
  for _ in $(seq 50); do
    "$release/sidecarctl" --socket "$sock" fleet status >/dev/null 2>&1 || break
    sleep 0.1
  done
  local saved_sock=$daemon_sock saved_pid=$daemon_pid saved_log=$daemon_log lag
  daemon_sock=$sock daemon_pid=$fleet_pid daemon_log=$log_file
  read -r fr fp50 fp99 <<<"$(measure_daemon ReserveRetrySlot 16 1)"
  daemon_sock=$saved_sock daemon_pid=$saved_pid daemon_log=$saved_log
  lag=$("$release/sidecarctl" --socket "$sock" metrics | awk '$1 == "sidecar_loop_lag_max_seconds" { printf "%.3f", $2 * 1000 }')
  local local_lag
  local_lag=$("$release/sidecarctl" --socket "$daemon_sock" metrics | awk '$1 == "sidecar_loop_lag_max_seconds" { printf "%.3f", $2 * 1000 }')
  echo
  echo "Degraded (PostgreSQL stopped, answered by the host's own ledger, 16 connections): $(printf '%.0f' "$fr") calls/s, p50 $fp50 us, p99 $fp99 us; the loop's largest lag over the last minute: $lag ms, next to $local_lag ms on the local-only sidecard under the same load (saturated: turns of many calls)."
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/pg/data" -l "$dir/pg/log" -w \
    -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1" start </dev/null >/dev/null 2>&1 || die "PostgreSQL did not start again"

  # The loop while degraded, alone: a fresh fleet sidecard, connected, then
  # PostgreSQL stopped under one sequential client (reconnecting every
  # second meanwhile). sidecar_loop_busy_max_seconds is the most CPU time
  # the loop thread spent between two waits for events, over this daemon's life.
  stop_server "$fleet_pid"
  start_sidecard "$dir/sidecar.toml" "$sock" "$dir/state2" "$log_file.2"
  fleet_pid=$started_pid
  for _ in $(seq 100); do "$release/sidecarctl" --socket "$sock" fleet status >/dev/null 2>&1 && break; sleep 0.1; done
  stop_postgres "$dir/pg"
  for _ in $(seq 50); do "$release/sidecarctl" --socket "$sock" fleet status >/dev/null 2>&1 || break; sleep 0.1; done
  local busy out
  out=$("$bin/loadgen" --socket "$sock" --method ReserveRetrySlot --connections 1 --depth 1 \
    --seconds "$seconds" --warmup 0) || die "loadgen failed against the degraded sidecard"
  sleep 2
  busy=$("$release/sidecarctl" --socket "$sock" metrics | awk '$1 == "sidecar_loop_busy_max_seconds" { printf "%.3f", $2 * 1000 }')
  echo
  echo "Degraded, one sequential client ($(printf '%.0f' "$(field calls_per_s "$out")") calls/s answered locally) and reconnects every second: the most CPU time the loop thread spent between two waits for events, over the daemon's life (start, connected, degraded): $busy ms (target: under 1 ms)."
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/pg/data" -l "$dir/pg/log" -w \
    -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1" start </dev/null >/dev/null 2>&1 || die "PostgreSQL did not start again"
  stop_server "$fleet_pid"
  bench_fleet_builds "$dir" "$port"
  stop_postgres "$dir/pg"
}

# Three fleet-mode sidecards (the OCI layout backend) on the PostgreSQL of
# bench_fleet and a docker-registry: per round a new image is asked for by
# 8 waiting connections on each host at once; one host builds and
# publishes, the others pull by digest. Times from the publish's commit
# (the row's updated_at) to the first and the last answer on the other
# hosts.
bench_fleet_builds() {
  local dir=$1 port=$2 host h round conns=8 builder published last first line out answers rounds_done=0 lasts=()
  if ! command -v skopeo >/dev/null || ! command -v docker-registry >/dev/null; then
    echo; echo "(fleet builds: skipped, no skopeo or docker-registry)"; return
  fi
  start_registry "$dir/registry"
  local registry_pid=$started_pid
  cat >"$dir/build.sh" <<SH
#!/bin/sh
set -e
work=\$(mktemp -d)
/usr/bin/python3 "$root/Tests/Fixtures/oci_fixture.py" "\$work/layout" "\$1" "bench-\${1%%:*}:65536"
skopeo copy --quiet "oci:\$work/layout:\$1" "oci:\$FLEET_LAYOUT:\$1"
rm -rf "\$work"
SH
  chmod +x "$dir/build.sh"
  local socks=() pids=()
  for host in a b c; do
    mkdir -p "$dir/$host"
    {
      echo "[images]"
      echo "insecure_registries = [\"$registry_host\"]"
      for round in $(seq "$rounds"); do
        echo "[[images.image]]"
        echo "name = \"agent$round\""
        echo "ref = \"agent$round:1\""
        echo "build = [\"$dir/build.sh\", \"{ref}\"]"
      done
      echo "[fleet]"
      echo "postgres = \"host=127.0.0.1 port=$port dbname=sidecar user=postgres\""
      echo "host_id = \"$host\""
      echo "registry = \"$registry_host/bench\""
    } >"$dir/$host/sidecar.toml"
    FLEET_LAYOUT="$dir/$host/state/oci" start_sidecard "$dir/$host/sidecar.toml" "$dir/$host/s.sock" "$dir/$host/state" "$dir/$host/log"
    socks+=("$dir/$host/s.sock")
    pids+=("$started_pid")
  done
  for h in "${socks[@]}"; do
    for _ in $(seq 100); do "$release/sidecarctl" --socket "$h" fleet status >/dev/null 2>&1 && break; sleep 0.1; done
  done
  echo
  echo "### fleet: one build for three hosts (OCI layout backend, a 64 KiB image): from the publish's commit to the other hosts' answers (target: the last within 50 ms)"
  echo
  echo "| round | built by | publish → first answer elsewhere, ms | publish → last answer elsewhere, ms | target |"
  echo "|---:|---|---:|---:|---|"
  for round in $(seq "$rounds"); do
    local outs=()
    for h in 0 1 2; do
      LOADGEN_IMAGE="agent$round" "$bin/loadgen" --socket "${socks[$h]}" --method EnsureImage --connections "$conns" --depth 1 --once \
        >"$dir/answers-$round-$h" &
      outs+=($!)
    done
    for h in "${outs[@]}"; do
      wait "$h" || die "EnsureImage of agent$round failed on a fleet host: $(cat "$dir"/answers-"$round"-* | head -n 5); $(tail -n 5 "$dir"/?/log)"
    done
    line=$(psql -X -A -t -F ' ' -h 127.0.0.1 -p "$port" -U postgres -d sidecar \
      -c "SELECT claimed_by, updated_at FROM sidecar_builds WHERE image = 'agent$round' AND state = 'published'")
    read -r builder published <<<"$line"
    [ -n "$builder" ] || die "no published build of agent$round"
    first="" last=""
    for h in 0 1 2; do
      [ "$(printf 'abc' | cut -c$((h + 1)))" = "$builder" ] && continue
      answers=$(tail -n 1 "$dir/answers-$round-$h")
      [ "$(field answers "$answers")" = "$conns" ] || die "host $h answered $answers"
      grep -q ' outcome=PULLED ' "$dir/answers-$round-$h" || die "host $h did not pull agent$round: $(head -n 3 "$dir/answers-$round-$h")"
      local f l
      f=$(awk -v a="$(field first_unix_ns "$answers")" -v p="$published" 'BEGIN { printf "%.1f", a / 1e6 - p * 1000 }')
      l=$(awk -v a="$(field last_unix_ns "$answers")" -v p="$published" 'BEGIN { printf "%.1f", a / 1e6 - p * 1000 }')
      if [ -z "$first" ] || awk -v x="$f" -v y="$first" 'BEGIN { exit !(x < y) }'; then first=$f; fi
      if [ -z "$last" ] || awk -v x="$l" -v y="$last" 'BEGIN { exit !(x > y) }'; then last=$l; fi
    done
    lasts+=("$last")
    local verdict
    if awk -v x="$last" 'BEGIN { exit !(x <= 50) }'; then verdict="≤ 50 ms: met"; else verdict="≤ 50 ms: **not met**"; targets_missed=$((targets_missed + 1)); fi
    printf '| %s | %s | %s | %s | %s |\n' "$round" "$builder" "$first" "$last" "$verdict"
  done
  for h in "${pids[@]}"; do stop_server "$h"; done
  stop_server "$registry_pid"
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
