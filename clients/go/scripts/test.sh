#!/usr/bin/env bash
# Tests the Go client (clients/go) against the built sidecard
# (.build/debug/sidecard, or $SIDECARD): installs what is missing, lays out
# a file GOPROXY from Debian's Go sources (there is no module proxy here),
# then gofmt, go vet and go test -race ./... . scripts/test.sh runs it after
# the TypeScript client's tests.
#
# The module's go.mod and go.sum are the ones any Go user gets from the
# public proxy. Debian's tree of google.golang.org/protobuf lacks the
# upstream module's LICENSE and README, so the zip made from it has another
# h1: hash than the public go.sum line; the build here therefore reads a
# copy of go.mod (-modfile) beside a go.sum of its own, in the cache
# folder, and never touches the committed go.sum. The go.mod hash, which
# does not depend on those files, is checked against the committed line.
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

cache=${SIDECAR_GO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sidecar-go}
mkdir -p "$cache"
sums=$(/usr/bin/python3 scripts/file_proxy.py "$cache/proxy")
cp go.mod "$cache/go.local.mod"
rm -f "$cache/go.local.sum"
export GOPROXY="file://$cache/proxy" GOSUMDB=off GONOSUMDB= GOPRIVATE= GOTOOLCHAIN=local
export GOMODCACHE="$cache/mod" GOFLAGS="-mod=mod -modfile=$cache/go.local.mod -modcacherw"
# Every test runs; none skips for a missing tool (install-deps installed them).
export SIDECAR_GO_REQUIRE_ALL=1

committed=$(grep ' v[0-9.]*/go.mod ' go.sum | sort)
local_mod=$(grep '/go.mod ' <<<"$sums" | sort)
[ "$committed" = "$local_mod" ] || {
  echo "go tests: the go.mod hash of Debian's module differs from go.sum's:" >&2
  echo "  go.sum: $committed" >&2
  echo "  Debian: $local_mod" >&2
  exit 1
}

unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "go tests: not gofmt-ed: $unformatted" >&2; exit 1; }
go vet ./...
go test -race -count=1 "$@" ./...
