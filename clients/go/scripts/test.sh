#!/usr/bin/env bash
# Tests the Go client (clients/go) against the built sidecard
# (.build/debug/sidecard, or $SIDECARD): installs what is missing, lays out
# a file GOPROXY from Debian's Go sources (there is no module proxy here),
# then gofmt, go vet and go test -race ./... . scripts/test.sh runs it after
# the TypeScript client's tests.
#
# The build reads a copy of go.mod beside a go.sum of its own, from a file
# GOPROXY made of Debian's sources: scripts/goenv.sh says why.
#
# Environment: SIDECARD, the daemon binary; SIDECAR_GO_CACHE [~/.cache/sidecar-go],
# where the proxy, the module cache and the go.sum of the build live.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

"$root/scripts/install-deps.sh" test
sidecard=${SIDECARD:-$root/.build/debug/sidecard}
[ -x "$sidecard" ] || { echo "go tests: no $sidecard; run swift build first" >&2; exit 1; }
export SIDECARD=$sidecard

# shellcheck source=goenv.sh
source scripts/goenv.sh
# Every test runs; none skips for a missing tool (install-deps installed them).
export SIDECAR_GO_REQUIRE_ALL=1

unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "go tests: not gofmt-ed: $unformatted" >&2; exit 1; }
go vet ./...
go test -race -count=1 "$@" ./...
