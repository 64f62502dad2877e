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

codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
# $(REPO_URI) is apt's format placeholder, not a shell expansion.
# shellcheck disable=SC2016
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
    | awk -v c="$codename" '$2 == c { print $1; exit }')
if [ -z "$mirror" ]; then
    echo "fetch-pebble: no apt source for '$codename' found on this machine" >&2
    exit 1
fi

work="$dest/apt"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc/parts" "$dest/bin"
: > "$work/etc/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
    > "$work/etc/sources.list"
cat > "$work/apt.conf" <<CONF
Dir::Etc::SourceList "$work/etc/sources.list";
Dir::Etc::SourceParts "$work/etc/parts";
Dir::State::Lists "$work/lists";
Dir::State::status "$work/etc/status";
Dir::Cache "$work/cache";
APT::Sandbox::User "root";
CONF
export APT_CONFIG="$work/apt.conf"
apt-get update -q
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
