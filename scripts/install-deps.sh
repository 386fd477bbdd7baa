#!/usr/bin/env bash
# Installs the Debian packages Sidecar needs, only those missing (apt-get
# update runs only when something is). A fresh machine has Swift and Debian
# and nothing else; every other script calls this first.
#
#   scripts/install-deps.sh         # to build and run the daemon
#   scripts/install-deps.sh test    # also what the tests use
#   scripts/install-deps.sh container  # also what scripts/container-image.sh puts in the image
set -euo pipefail

packages=(libuv1-dev libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev libcurl4-openssl-dev libssl-dev libpq-dev pkg-config)
if [ "${1:-}" = test ]; then
  # sqlite3: tests inspect the state database; protobuf-compiler and
  # python3-protobuf: the Python client (clients/python) and its interop
  # test; python3-pytest: its tests; python3-venv, python3-setuptools and
  # python3-wheel: its test that pip-installs it into a fresh venv without
  # the network; gcc: the bench tools;
  # podman: the Docker Engine API (podman system service) the docker
  # backend's tests run against; skopeo and docker-registry: the OCI layout
  # backend's pulls and the registry its tests pull from; curl: probes;
  # python3-pytest, -venv, -setuptools, -wheel: the Python client's tests;
  # nodejs and node-typescript (tsc): the TypeScript client's tests;
  # prometheus (with promtool): scrapes the metrics endpoint in its tests;
  # golang-go, golang-google-protobuf-dev (the sources clients/go builds
  # on, through a file GOPROXY) and protoc-gen-go: the Go client, its
  # generated code and its tests; apache2-utils: htpasswd, for a registry
  # that asks for a login (the unauthorized pull's test); runc and
  # busybox-static: real containers for sidecarctl run and hook (crun,
  # podman's default, cannot run them on the development VM).
  # tini: PID 1 of the container image, tested by scripts/test-container.sh.
  # acl: setfacl, for the tests of who may ask CheckDb about a file.
  # postgresql: a real PostgreSQL 15 server (initdb, pg_ctl, psql) for the
  # tests of the PostgreSQL store (Tests/SidecarTestSupport/PostgresService).
  # iproute2 and iptables: network namespaces, and a link cut in silence, for
  # the fleet tests.
  packages+=(sqlite3 protobuf-compiler python3 python3-protobuf python3-pytest python3-venv python3-setuptools python3-wheel gcc podman skopeo docker-registry curl nodejs node-typescript prometheus golang-go golang-google-protobuf-dev protoc-gen-go apache2-utils runc busybox-static tini acl postgresql iproute2 iptables)
fi
if [ "${1:-}" = container ]; then
  packages+=(podman runc skopeo tini busybox-static ca-certificates)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
