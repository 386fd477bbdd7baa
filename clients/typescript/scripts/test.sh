#!/usr/bin/env bash
# Compiles the TypeScript client (Debian's tsc: node-typescript) and runs its
# tests with node's test runner: the codec against Python's protobuf, the
# client and the examples against the built sidecard (.build/debug/sidecard,
# or $SIDECARD). scripts/test.sh runs it after swift test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(cd ../.. && pwd)
for tool in node tsc protoc; do
  command -v "$tool" >/dev/null || { echo "typescript tests: $tool not found (scripts/install-deps.sh test)" >&2; exit 1; }
done
sidecard=${SIDECARD:-$root/.build/debug/sidecard}
[ -x "$sidecard" ] || { echo "typescript tests: no $sidecard; run swift build first" >&2; exit 1; }
rm -rf dist
tsc -p .
node --test test/*.test.mjs
