#!/bin/sh
# Makes sure a Docker engine answers: installs Debian's docker.io when dockerd is missing, and
# starts dockerd in the background when none runs (a new machine has only the client, if that).
# Usage: dockerd.sh LOGDIR
set -eu

logdir=$(mkdir -p "$1" && cd "$1" && pwd)
if docker info >/dev/null 2>&1; then
    exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io debootstrap
fi
echo "dockerd: starting (log: $logdir/dockerd.log)"
nohup dockerd > "$logdir/dockerd.log" 2>&1 &
tries=0
until docker info >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 60 ]; then
        echo "dockerd: not answering after 30 s; see $logdir/dockerd.log" >&2
        tail -20 "$logdir/dockerd.log" >&2
        exit 1
    fi
    sleep 0.5
done
