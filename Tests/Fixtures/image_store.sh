#!/bin/sh
# A stand-in image store for the command backend's tests: an image is a file
# STORE/NAME. Files beside it steer a build: NAME.fail makes it fail,
# NAME.hang makes it hang (with a child), NAME.delay sets how long it takes,
# NAME.base names a base that must be present first. Every build start and
# end is logged to STORE/builds.log. A STORE of "@env" is $FLEET_STORE (so
# that hosts of a fleet share one build argv). For fleet builds, a folder
# stands in for the registry: `push STORE NAME TARGET DIGESTFILE` copies the
# image to the path TARGET and to TARGET's repository @sha256:DIGEST, writing
# the digest to DIGESTFILE; `fetch STORE NAME SOURCE` copies the path SOURCE in.
set -u
op=$1 store=$2 name=$3
[ "$store" = "@env" ] && store=$FLEET_STORE
case "$op" in
push)
    target=$4 digestfile=$5
    mkdir -p "$(dirname "$target")"
    digest=sha256:$(sha256sum "$store/$name" | cut -d' ' -f1)
    cp "$store/$name" "$target"
    cp "$store/$name" "${target%:*}@$digest"
    echo "$digest" >"$digestfile" ;;
fetch)
    cp "$4" "$store/$name" ;;
exists)
    [ -e "$store/$name" ]
    exit $? ;;
remove)
    rm "$store/$name" ;;
build|pull)
    echo "start $name" >>"$store/builds.log"
    if [ -e "$store/$name.base" ] && [ ! -e "$store/$(cat "$store/$name.base")" ]; then
        echo "base-missing $name" >>"$store/builds.log"
    fi
    echo "step 1: preparing $name"
    if [ -e "$store/$name.fail" ]; then
        echo "error: step 2 failed for $name: no space left in the test" >&2
        exit 3
    fi
    if [ -e "$store/$name.hang" ]; then
        sleep 300 &
        echo "$$ $!" >"$store/$name.pids"
        sleep 300
    fi
    sleep "$(cat "$store/$name.delay" 2>/dev/null || echo 0.2)"
    echo "$name built in $store" >"$store/$name"
    echo "done $name" >>"$store/builds.log" ;;
*)
    echo "unknown op $op" >&2
    exit 64 ;;
esac
