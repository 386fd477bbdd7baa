#!/bin/sh
# A stand-in image store for the command backend's tests: an image is a file
# STORE/NAME. Files beside it steer a build: NAME.fail makes it fail,
# NAME.hang makes it hang (with a child), NAME.delay sets how long it takes,
# NAME.base names a base that must be present first. Every build start and
# end is logged to STORE/builds.log.
set -u
op=$1 store=$2 name=$3
case "$op" in
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
    touch "$store/$name"
    echo "done $name" >>"$store/builds.log" ;;
*)
    echo "unknown op $op" >&2
    exit 64 ;;
esac
