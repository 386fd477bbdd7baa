#!/usr/bin/env bash
# Regenerates the code made from proto/: the protobuf-c code in
# Sources/SidecarProtoC, and the method descriptors in
# Sources/SidecarWire/SidecarMethods.swift (scripts/gen-methods.py), and the
# TypeScript client's codec in clients/typescript/src/generated/sidecar.ts
# (scripts/gen-ts.py, from protoc's descriptor set).
# With --check it regenerates into a temp dir and fails if the committed
# code differs (CI runs it that way).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
proto_dir="$root/proto/sidecar/v1"
target="$root/Sources/SidecarProtoC"

if ! command -v protoc-c >/dev/null; then
  echo "gen-proto: protoc-c not found (apt-get install -y protobuf-c-compiler)" >&2
  exit 1
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# proto_path is the schema folder itself so the .c files include their
# headers without a directory prefix.
protoc-c --proto_path="$proto_dir" --c_out="$out" "$proto_dir"/*.proto
methods="$root/Sources/SidecarWire/SidecarMethods.swift"
python3 "$root/scripts/gen-methods.py" "$proto_dir/sidecar.proto" > "$out/SidecarMethods.swift.gen"
# The TypeScript codec, from the schema as protoc parsed it (comments
# included). gen-ts.py needs python3-protobuf, installed for the system
# python3, which may not be the first python3 on PATH.
ts_codec="$root/clients/typescript/src/generated/sidecar.ts"
system_python=/usr/bin/python3
[ -x "$system_python" ] || system_python=python3
protoc --proto_path="$proto_dir" --include_source_info --descriptor_set_out="$out/sidecar.desc" wire.proto sidecar.proto
"$system_python" "$root/scripts/gen-ts.py" "$out/sidecar.desc" > "$out/sidecar.ts.gen"

if [ "${1:-}" = "--check" ]; then
  stale=0
  for f in "$out"/*.pb-c.c; do
    cmp -s "$f" "$target/$(basename "$f")" || { echo "stale: Sources/SidecarProtoC/$(basename "$f")" >&2; stale=1; }
  done
  for f in "$out"/*.pb-c.h; do
    cmp -s "$f" "$target/include/$(basename "$f")" || { echo "stale: Sources/SidecarProtoC/include/$(basename "$f")" >&2; stale=1; }
  done
  cmp -s "$out/SidecarMethods.swift.gen" "$methods" || { echo "stale: Sources/SidecarWire/SidecarMethods.swift" >&2; stale=1; }
  cmp -s "$out/sidecar.ts.gen" "$ts_codec" || { echo "stale: clients/typescript/src/generated/sidecar.ts" >&2; stale=1; }
  if [ "$stale" = 1 ]; then
    echo "gen-proto: generated code is out of date; run scripts/gen-proto.sh and commit" >&2
    exit 1
  fi
  echo "gen-proto: generated code is up to date"
  exit 0
fi

rm -f "$target"/*.pb-c.c "$target"/include/*.pb-c.h
cp "$out"/*.pb-c.c "$target/"
cp "$out"/*.pb-c.h "$target/include/"
cp "$out/SidecarMethods.swift.gen" "$methods"
cp "$out/sidecar.ts.gen" "$ts_codec"
echo "gen-proto: wrote $(ls "$out"/*.pb-c.* | wc -l) files to Sources/SidecarProtoC, Sources/SidecarWire/SidecarMethods.swift and clients/typescript/src/generated/sidecar.ts"
