#!/usr/bin/env bash
# Regenerates the code made from proto/: the protobuf-c code in
# Sources/SidecarProtoC, the method descriptors in
# Sources/SidecarWire/SidecarMethods.swift (scripts/gen-methods.py), the
# Python modules of the Python client in clients/python/sidecar_client/_proto
# (protoc --python_out and --pyi_out), and the TypeScript client's codec in
# clients/typescript/src/generated/sidecar.ts (scripts/gen-ts.py, from
# protoc's descriptor set), and the Go client's messages in
# clients/go/sidecarpb (protoc-gen-go, with the Go package given by
# --go_opt=M..., so the .proto files carry no go_package).
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
if ! command -v protoc >/dev/null; then
  echo "gen-proto: protoc not found (apt-get install -y protobuf-compiler)" >&2
  exit 1
fi
if ! command -v protoc-gen-go >/dev/null; then
  echo "gen-proto: protoc-gen-go not found (apt-get install -y protoc-gen-go)" >&2
  exit 1
fi
python_target="$root/clients/python/sidecar_client/_proto"
go_module=github.com/sidecar-dev/sidecar/clients/go
go_target="$root/clients/go/sidecarpb"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# proto_path is the schema folder itself so the .c files include their
# headers without a directory prefix.
protoc-c --proto_path="$proto_dir" --c_out="$out" "$proto_dir"/*.proto
methods="$root/Sources/SidecarWire/SidecarMethods.swift"
python3 "$root/scripts/gen-methods.py" "$proto_dir/sidecar.proto" > "$out/SidecarMethods.swift.gen"
# The Python modules live in a package: an import of a sibling module
# ("import wire_pb2", should one .proto import another) becomes relative.
mkdir "$out/python"
protoc --proto_path="$proto_dir" --python_out="$out/python" --pyi_out="$out/python" "$proto_dir"/*.proto
sed -i -E 's/^import ([A-Za-z0-9_]+_pb2)( as |$)/from . import \1\2/' "$out/python"/*_pb2.py "$out/python"/*_pb2.pyi
# The TypeScript codec, from the schema as protoc parsed it (comments
# included). gen-ts.py needs python3-protobuf, installed for the system
# python3, which may not be the first python3 on PATH.
ts_codec="$root/clients/typescript/src/generated/sidecar.ts"
system_python=/usr/bin/python3
[ -x "$system_python" ] || system_python=python3
protoc --proto_path="$proto_dir" --include_source_info --descriptor_set_out="$out/sidecar.desc" wire.proto sidecar.proto
"$system_python" "$root/scripts/gen-ts.py" "$out/sidecar.desc" > "$out/sidecar.ts.gen"
# The Go package: module= strips the module path, so the files land in
# $out/go/sidecarpb. sidecarpb/doc.go is written by hand and left alone.
mkdir "$out/go"
protoc --proto_path="$proto_dir" --go_out="$out/go" --go_opt=module="$go_module" \
  --go_opt=Mwire.proto="$go_module/sidecarpb" --go_opt=Msidecar.proto="$go_module/sidecarpb" \
  wire.proto sidecar.proto

if [ "${1:-}" = "--check" ]; then
  stale=0
  for f in "$out"/*.pb-c.c; do
    cmp -s "$f" "$target/$(basename "$f")" || { echo "stale: Sources/SidecarProtoC/$(basename "$f")" >&2; stale=1; }
  done
  for f in "$out"/*.pb-c.h; do
    cmp -s "$f" "$target/include/$(basename "$f")" || { echo "stale: Sources/SidecarProtoC/include/$(basename "$f")" >&2; stale=1; }
  done
  cmp -s "$out/SidecarMethods.swift.gen" "$methods" || { echo "stale: Sources/SidecarWire/SidecarMethods.swift" >&2; stale=1; }
  for f in "$out"/python/*; do
    cmp -s "$f" "$python_target/$(basename "$f")" || { echo "stale: clients/python/sidecar_client/_proto/$(basename "$f")" >&2; stale=1; }
  done
  for f in "$python_target"/*_pb2.py "$python_target"/*_pb2.pyi; do
    [ -e "$f" ] || continue
    [ -e "$out/python/$(basename "$f")" ] || { echo "stale: clients/python/sidecar_client/_proto/$(basename "$f") (no .proto makes it)" >&2; stale=1; }
  done
  cmp -s "$out/sidecar.ts.gen" "$ts_codec" || { echo "stale: clients/typescript/src/generated/sidecar.ts" >&2; stale=1; }
  for f in "$out"/go/sidecarpb/*.pb.go; do
    cmp -s "$f" "$go_target/$(basename "$f")" || { echo "stale: clients/go/sidecarpb/$(basename "$f")" >&2; stale=1; }
  done
  for f in "$go_target"/*.pb.go; do
    [ -e "$f" ] || continue
    [ -e "$out/go/sidecarpb/$(basename "$f")" ] || { echo "stale: clients/go/sidecarpb/$(basename "$f") (no .proto makes it)" >&2; stale=1; }
  done
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
rm -f "$python_target"/*_pb2.py "$python_target"/*_pb2.pyi
cp "$out"/python/* "$python_target/"
cp "$out/sidecar.ts.gen" "$ts_codec"
mkdir -p "$go_target"
rm -f "$go_target"/*.pb.go
cp "$out"/go/sidecarpb/*.pb.go "$go_target/"
echo "gen-proto: wrote $(ls "$out"/*.pb-c.* | wc -l) files to Sources/SidecarProtoC, Sources/SidecarWire/SidecarMethods.swift, $(ls "$out"/python | wc -l) to clients/python/sidecar_client/_proto, clients/typescript/src/generated/sidecar.ts and $(ls "$out"/go/sidecarpb | wc -l) to clients/go/sidecarpb"
