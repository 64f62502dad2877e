#!/bin/sh
# Fetches promtool, which checks and unit-tests Prometheus rules, from Debian's prometheus package,
# with a private apt configuration (tools/private-apt.sh). Only promtool is unpacked: installing
# the package would start a Prometheus server on every address.
# Usage: fetch-promtool.sh DEST  (installs DEST/bin/promtool)
set -eu

dest=$(mkdir -p "$1" && cd "$1" && pwd)
if [ -x "$dest/bin/promtool" ]; then
    exit 0
fi

work="$dest/apt"
mkdir -p "$dest/bin"
# shellcheck source=tools/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt "$work" "$(. /etc/os-release && echo "$VERSION_CODENAME")"
(cd "$work" && apt-get download -q prometheus)
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
install -m 0755 "$work/root/usr/bin/promtool" "$dest/bin/"
rm -rf "$work"
echo "fetch-promtool: $("$dest/bin/promtool" --version 2>&1 | head -1)"
