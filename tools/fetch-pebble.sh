#!/bin/sh
# Fetches Pebble (with ARI and profiles) from Debian's newest suite, with a private apt
# configuration: the system's sources, lists and cache stay untouched. The mirror is the one this
# machine's apt already uses. Usage: fetch-pebble.sh DEST  (installs DEST/bin/pebble{,-challtestsrv})
set -eu

dest=$(mkdir -p "$1" && cd "$1" && pwd)
suite=${PEBBLE_SUITE:-sid}
want=${PEBBLE_VERSION:-2.10.0}

if [ -x "$dest/bin/pebble" ] && [ -x "$dest/bin/pebble-challtestsrv" ]; then
    exit 0
fi

work="$dest/apt"
mkdir -p "$dest/bin"
# shellcheck source=tools/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt "$work" "$suite"
version=$(apt-cache policy pebble | awk '/Candidate:/ { print $2 }')
case "$version" in
    "$want"*) ;;
    *) echo "fetch-pebble: $suite offers pebble '$version', expected $want" >&2; exit 1 ;;
esac
(cd "$work" && apt-get download -q "pebble=$version")
dpkg-deb -x "$work"/pebble_*.deb "$work/root"
install -m 0755 "$work/root/usr/bin/pebble" "$work/root/usr/bin/pebble-challtestsrv" "$dest/bin/"
rm -rf "$work"
echo "fetch-pebble: pebble $version in $dest/bin"
