#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, checks
# the committed generated code is current, builds, and runs the unit,
# integration, end-to-end and interop tests (all in `swift test`), then the
# Python client's tests (pytest), the TypeScript client's (compiled with
# Debian's tsc, run with node --test) and the Go client's (go vet and
# go test -race, built offline from Debian's Go sources), all against the
# sidecard just built.
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
# Debian's python3 (with Debian's python3-protobuf and python3-pytest), not
# whatever python3 comes first on PATH.
/usr/bin/python3 -m pytest -q clients/python/tests
clients/typescript/scripts/test.sh
clients/go/scripts/test.sh
# The install tree, and the installed binaries run from it.
scripts/test-install.sh
# The container image, run with podman: the socket through a bind mount,
# and no zombie from a build's orphan.
scripts/test-container.sh
