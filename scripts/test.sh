#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, checks
# the committed protobuf-c code is current, builds, and runs the unit,
# integration, end-to-end and interop tests (all in `swift test`), then the
# TypeScript client's tests (clients/typescript: compiled with Debian's tsc,
# run with node --test against the built sidecard).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh test
scripts/gen-proto.sh --check
# The integration tests start the built sidecard and sidecarctl.
swift build
# XCTest only: no Swift Testing suites exist, and its empty run would
# close the log with "0 tests".
swift test --disable-swift-testing "$@"
clients/typescript/scripts/test.sh
