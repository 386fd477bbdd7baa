#!/usr/bin/env python3
"""Lays out a Go module proxy in a folder (GOPROXY=file://DIR) from the Go
sources Debian ships under /usr/share/gocode/src, so that clients/go builds
with its go.mod unchanged on a machine without a module proxy.

    file_proxy.py DIR [MODULE=DEBIAN_PACKAGE ...]

Default: google.golang.org/protobuf from golang-google-protobuf-dev. For
each module it writes DIR/MODULE/@v/{list, VERSION.info, VERSION.mod,
VERSION.zip}, the version being the Debian package's upstream version.
The zip holds every file of the Debian tree under MODULE@VERSION/, as the
go command wants; its hash (printed) is that of Debian's tree, which lacks
the upstream module's LICENSE, README and other non-Go files, so it is not
the h1: hash of the public module (see clients/go/README.md).
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile

GOCODE = "/usr/share/gocode/src"
DEFAULT = ["google.golang.org/protobuf=golang-google-protobuf-dev"]


def debian_version(package):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout:
        sys.exit(f"file_proxy: {package} is not installed (apt-get install -y {package})")
    version = out.stdout.split(":", 1)[-1]  # no epoch
    return "v" + version.rsplit("-", 1)[0].split("+", 1)[0]  # no Debian revision or +ds suffix


def h1(entries):
    """The go command's dirhash Hash1 over (name, bytes) pairs."""
    lines = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(entries))
    return "h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode()


def lay_out(out, module, package):
    source = os.path.join(GOCODE, module)
    if not os.path.isfile(os.path.join(source, "go.mod")):
        sys.exit(f"file_proxy: no {source}/go.mod (apt-get install -y {package})")
    version = debian_version(package)
    target = os.path.join(out, module, "@v")
    os.makedirs(target, exist_ok=True)
    prefix = f"{module}@{version}/"
    entries = []
    for folder, dirs, files in os.walk(source):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                entries.append((prefix + os.path.relpath(path, source), f.read()))
    zip_path = os.path.join(target, version + ".zip")
    with zipfile.ZipFile(zip_path + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    os.replace(zip_path + ".tmp", zip_path)
    with open(os.path.join(source, "go.mod"), "rb") as f:
        mod = f.read()
    with open(os.path.join(target, version + ".mod"), "wb") as f:
        f.write(mod)
    with open(os.path.join(target, version + ".info"), "w") as f:
        json.dump({"Version": version, "Time": "1980-01-01T00:00:00Z"}, f)
    with open(os.path.join(target, "list"), "w") as f:
        f.write(version + "\n")
    print(f"{module} {version} {h1(entries)}")
    print(f"{module} {version}/go.mod {h1([('go.mod', mod)])}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for spec in sys.argv[2:] or DEFAULT:
        module, _, package = spec.partition("=")
        lay_out(sys.argv[1], module, package)


if __name__ == "__main__":
    main()
