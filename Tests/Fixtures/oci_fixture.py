#!/usr/bin/env python3
"""Writes an OCI image layout holding one image made of the given layers.

    oci_fixture.py LAYOUT REF LAYER[:BYTES] ...

Each LAYER is a name; its layer is a tar holding one file of that name with
BYTES (default 64) pseudo-random bytes seeded by the name, so the same name
gives the same layer (and digest) in every image: two images that list the
same first layer share it. The tests push the result to a registry with
skopeo.
"""
import hashlib
import io
import json
import os
import random
import sys
import tarfile


def blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def layer_tar(name, size):
    rng = random.Random(name)
    content = bytes(rng.getrandbits(8) for _ in range(size)) if size <= 1 << 20 else rng.randbytes(size)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def main():
    layout, ref, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    layers, diff_ids = [], []
    for spec in specs:
        name, _, size = spec.partition(":")
        data = layer_tar(name, int(size or 64))
        diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
        layers.append(dict(blob(layout, data), mediaType="application/vnd.oci.image.layer.v1.tar"))
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {"Labels": {"fixture": ref}},
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(blob(layout, config), mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": layers,
    }, sort_keys=True).encode()
    entry = dict(blob(layout, manifest), mediaType="application/vnd.oci.image.manifest.v1+json",
                 annotations={"org.opencontainers.image.ref.name": ref})
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [entry]}, f)


if __name__ == "__main__":
    main()
