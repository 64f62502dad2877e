#!/bin/sh
# Installs the Debian packages that the tests and the demo need on this (Debian 12) machine.
# Idempotent: apt runs only when a package is missing.
set -eu

# caddy: its ACME server (acme_server) is the tests' second, independent CA. chromium: `make release`
# renders the module's documentation page. bind9 (+ dig, nsupdate): dns-01's authoritative servers and
# resolver (tools/testbed/bind.py), which puts its loopback addresses on lo with iproute2.
packages="nginx-light python3-venv openssl curl ca-certificates shellcheck docker.io debootstrap caddy chromium
bind9 bind9-dnsutils iproute2"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "setup-host: run as root to install:$missing" >&2
    exit 1
fi

# The system's nginx, caddy and named must not start on install: the tests run their own on
# loopback, and the packages' defaults would hold ports 80 and 53 on every address.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=yes
fi
apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
if [ "$created_policy" = yes ]; then
    rm -f "$policy"
fi
# Where systemd runs, keep the packaged caddy and named from starting at boot (ports 80 and 53).
if [ -d /run/systemd/system ]; then
    systemctl disable --now caddy.service named.service >/dev/null 2>&1 || true
fi
