#!/usr/bin/env bash
# Fuzzes the wire decoders with libFuzzer for SECONDS (default 60): every
# input goes to the frame decoder (cut into reads every way, against the
# framing rule), the hand-written decoders beside protobuf-c's, and every
# method's request decoder (Tests/Fuzz, Tests/SidecarWireAgreement). A
# disagreement or a crash stops the run and leaves the input in
# .build-fuzz/artifacts/. Not run by CI. On a shared machine:
#   flock /tmp/sidecar-bench.lock nice -n 10 scripts/fuzz.sh 600
# Replay a crash: .build-fuzz/release/sidecar-fuzz .build-fuzz/artifacts/crash-...
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=.build-fuzz          # its own build folder, out of git (.gitignore)
corpus=$build/corpus       # kept between runs: each starts where the last stopped
artifacts=$build/artifacts

# The target exists only with SIDECAR_FUZZ=1 (Package.swift). Every module
# gets libFuzzer's coverage (what -sanitize=fuzzer would give) and
# AddressSanitizer; libFuzzer itself is linked without its main, since
# SwiftPM gives an executable one of its own (main.swift calls the driver).
runtime=$(dirname "$(readlink -f "$(command -v swiftc)")")/../lib/swift/clang/lib/linux
SIDECAR_FUZZ=1 flock /tmp/sidecar-build.lock swift build --build-path "$build" -c release --product sidecar-fuzz \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp,indirect-calls \
  -Xlinker --whole-archive -Xlinker "$runtime/libclang_rt.fuzzer_no_main-x86_64.a" -Xlinker --no-whole-archive \
  -Xlinker -lstdc++ >&2
fuzzer=$build/release/sidecar-fuzz

mkdir -p "$corpus" "$artifacts"
# Frames as the Swift client writes them, one of each method's requests.
"$fuzzer" --write-seeds="$corpus"
crashes_before=$(find "$artifacts" -type f | wc -l)
log=$build/last-run.log
started=$(date +%s)
status=0
# Swift's own crash backtracer trips AddressSanitizer: libFuzzer reports the trap.
SWIFT_BACKTRACE=enable=no "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?
elapsed=$(($(date +%s) - started))

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
crashes=$(($(find "$artifacts" -type f | wc -l) - crashes_before))
if ((status != 0)); then
  # libFuzzer's report: the trap's message (a disagreement names the
  # decoders and the fields) and the input it wrote.
  grep -E "Fatal error|ERROR: |Test unit written|SUMMARY" "$log" >&2 || tail -30 "$log" >&2
fi
echo "fuzz: ${execs:-?} execs in ${elapsed} s, corpus $(find "$corpus" -type f | wc -l) inputs, crashes $crashes, libFuzzer status $status (log $log)"
exit "$status"
