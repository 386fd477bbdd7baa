# Sourced (bash) by clients/go/scripts/test.sh and scripts/bench.sh: the go
# command's environment for building clients/go without a module proxy.
#
# It lays out a file GOPROXY from Debian's Go sources (scripts/file_proxy.py;
# golang-google-protobuf-dev) under $SIDECAR_GO_CACHE (default
# ~/.cache/sidecar-go), with a module cache of its own there, and makes the
# go command read a copy of go.mod (-modfile) whose go.sum lives there too:
# the committed go.mod and go.sum stay the ones a Go user gets from the
# public proxy. Debian's tree of google.golang.org/protobuf lacks the
# upstream module's LICENSE and README, so the zip made from it has another
# h1: hash than the public go.sum line; the go.mod hash, which does not
# depend on them, must match the committed line, and is checked here.
go_module_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
go_cache=${SIDECAR_GO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sidecar-go}
mkdir -p "$go_cache"
go_sums=$(/usr/bin/python3 "$go_module_dir/scripts/file_proxy.py" "$go_cache/proxy")
cp "$go_module_dir/go.mod" "$go_cache/go.local.mod"
rm -f "$go_cache/go.local.sum"
export GOPROXY="file://$go_cache/proxy" GOSUMDB=off GONOSUMDB= GOPRIVATE= GOTOOLCHAIN=local
export GOMODCACHE="$go_cache/mod" GOFLAGS="-mod=mod -modfile=$go_cache/go.local.mod -modcacherw"
if [ "$(grep ' v[0-9.]*/go.mod ' "$go_module_dir/go.sum" | sort)" != "$(grep '/go.mod ' <<<"$go_sums" | sort)" ]; then
  echo "goenv: the go.mod hash of Debian's module differs from clients/go/go.sum's:" >&2
  grep ' v[0-9.]*/go.mod ' "$go_module_dir/go.sum" >&2
  grep '/go.mod ' <<<"$go_sums" >&2
  return 1
fi
