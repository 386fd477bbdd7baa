#!/bin/sh
# The template store of the templatecache example, for the command image
# backend: template NAME is a folder STORE/NAME holding rootfs, memfile and
# snapfile, fetched from "the bucket" (made of pseudo-random bytes here) and
# renamed into place whole. STORE/NAME.failures holds how many fetches fail
# first, as a transient storage error would (each failure counts it down).
# Every fetch is logged to STORE/fetches.log.
#
#   template_store.sh exists|fetch|remove STORE NAME
set -u
op=$1 store=$2 name=$3
case "$op" in
exists)
    [ -f "$store/$name/snapfile" ]
    exit $? ;;
remove)
    rm -rf "$store/$name" ;;
fetch)
    echo "fetch $name" >>"$store/fetches.log"
    sleep 0.3
    failures=$(cat "$store/$name.failures" 2>/dev/null || echo 0)
    if [ "$failures" -gt 0 ]; then
        echo $((failures - 1)) >"$store/$name.failures"
        echo "error: GET gs://templates/$name/rootfs: 503 Service Unavailable (transient)" >&2
        exit 1
    fi
    rm -rf "$store/$name.incoming"
    mkdir -p "$store/$name.incoming"
    for file in rootfs memfile snapfile; do
        head -c 1048576 /dev/urandom >"$store/$name.incoming/$file"
    done
    mv "$store/$name.incoming" "$store/$name" ;;
*)
    echo "unknown op $op" >&2
    exit 64 ;;
esac
