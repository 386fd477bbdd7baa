#!/usr/bin/env bash
# Builds a container image of sidecard and sidecarctl with podman from
# docs/container/Containerfile. Nothing is pulled: the root file system is
# assembled from this host's files (the binaries, the libraries `ldd` says
# they load, tini-static, busybox-static, skopeo, CA certificates and a
# config), then `podman build` copies it into a FROM scratch image.
#
#   scripts/container-image.sh [--configuration release|debug] [TAG]
#
# TAG defaults to localhost/sidecar:VERSION. PODMAN_STORAGE (default
# "--storage-driver vfs") is passed to every podman call, e.g. to build into
# a test's own --root and --runroot.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
configuration=release
tag=
while [ $# -gt 0 ]; do
  case "$1" in
    --configuration) [ $# -ge 2 ] || { echo "container-image: --configuration needs a value" >&2; exit 64; }; configuration=$2; shift 2 ;;
    -*) echo "usage: scripts/container-image.sh [--configuration release|debug] [TAG]" >&2; exit 64 ;;
    *) tag=$1; shift ;;
  esac
done
case "$configuration" in release|debug) ;; *) echo "container-image: --configuration is release or debug" >&2; exit 64 ;; esac
read -r -a storage <<< "${PODMAN_STORAGE:---storage-driver vfs}"

cd "$root"
scripts/install-deps.sh container
swift build -c "$configuration" --product sidecard >&2
swift build -c "$configuration" --product sidecarctl >&2
bin=$(swift build -c "$configuration" --show-bin-path)
version=$("$bin/sidecarctl" --version 2>/dev/null || echo 0.1.0)
tag=${tag:-localhost/sidecar:$version}

context=$(mktemp -d /tmp/sidecar-image-XXXXXX)
trap 'rm -rf "$context"' EXIT
rootfs=$context/rootfs
mkdir -p "$rootfs"/{usr/bin,bin,etc/sidecar,etc/containers,etc/ssl/certs,run/sidecar,var/lib/sidecar,tmp,root}
chmod 1777 "$rootfs/tmp"

# A file and, under the same path in the image, every library it loads.
with_libraries() {
  local file=$1
  ldd "$file" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r library; do
    [ -e "$rootfs$library" ] && continue
    mkdir -p "$rootfs$(dirname "$library")"
    cp -L "$library" "$rootfs$library"
  done
}
install -m 0755 "$bin/sidecard" "$bin/sidecarctl" "$rootfs/usr/bin/"
install -m 0755 /usr/bin/tini-static /usr/bin/skopeo "$rootfs/usr/bin/"
install -m 0755 /bin/busybox "$rootfs/bin/busybox"
for applet in sh test touch sleep cat echo ls ps; do ln -sf busybox "$rootfs/bin/$applet"; done
for file in "$rootfs/usr/bin/sidecard" "$rootfs/usr/bin/sidecarctl" "$rootfs/usr/bin/skopeo"; do with_libraries "$file"; done
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
cp /etc/containers/policy.json "$rootfs/etc/containers/" 2>/dev/null ||
  echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$rootfs/etc/containers/policy.json"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
cp examples/sidecar.toml "$rootfs/etc/sidecar/sidecar.toml"
cp docs/container/Containerfile "$context/Containerfile"

podman "${storage[@]}" build --quiet -t "$tag" -f "$context/Containerfile" "$context" >&2
echo "$tag"
