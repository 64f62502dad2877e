#!/bin/sh
# Fetches the Python libraries that a Debian 12 managed host runs the engine on (python3-acme 2.1,
# requests 2.28, urllib3 1.26, cryptography 38, dnspython 2.3, ...), unpacked into a folder of their
# own, so that tests can run the engine on them too. A private apt configuration, as for Pebble: the
# system's sources, lists and cache stay untouched (tools/private-apt.sh).
# Usage: fetch-debian-libs.sh DEST  (unpacks into DEST/root; DEST/root/usr/lib/python3/dist-packages)
set -eu

dest=$(mkdir -p "$1" && cd "$1" && pwd)
suite=${DEBIAN_LIBS_SUITE:-bookworm}
packages="python3-acme python3-josepy python3-requests python3-urllib3 python3-idna python3-certifi
python3-chardet python3-charset-normalizer python3-openssl python3-rfc3339 python3-tz
python3-cryptography python3-cffi-backend python3-dnspython"

# The marker holds the package list: a list that changed fetches again.
if [ -f "$dest/root/.complete" ] && [ "$(cat "$dest/root/.complete")" = "$packages" ]; then
    exit 0
fi

work="$dest/apt"
rm -rf "$work" "$dest/root"
mkdir -p "$dest/root"
# shellcheck source=tools/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt "$work" "$suite"
# shellcheck disable=SC2086
(cd "$work" && apt-get download -q $packages)
for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$dest/root"
done
rm -rf "$work"
printf '%s' "$packages" > "$dest/root/.complete"
echo "fetch-debian-libs: $suite's engine libraries in $dest/root"
