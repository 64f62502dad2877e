#!/bin/sh
# Builds the Molecule base images locally (no registry is reachable here):
#   zdt/debian:12, zdt/debian:13            debootstrap + docker import; nginx and python3, no init
#   zdt/debian:12-systemd, zdt/debian:13-systemd   the same with systemd as PID 1
#   zdt/debian:12-apache, zdt/debian:13-apache     the systemd images with apache2 instead of nginx
#   zdt/controller:13                        Debian 13's Python 3.13 for the ansible-core 2.20/2.21 controllers
# The mirror is the one this machine's apt already uses. Root file systems stay under DEST.
# Usage: build.sh DEST
set -eu

dest=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
# $(REPO_URI) is apt's format placeholder, not a shell expansion.
# shellcheck disable=SC2016
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
    | awk -v c="$codename" '$2 == c { print $1; exit }')
[ -n "$mirror" ] || { echo "images: no apt source for '$codename' on this machine" >&2; exit 1; }

build_base() {  # VERSION SUITE
    version=$1 suite=$2
    if docker image inspect "zdt/debian:$version" >/dev/null 2>&1; then
        return 0
    fi
    rootfs="$dest/rootfs-$suite"
    rm -rf "$rootfs"
    echo "images: debootstrap $suite into $rootfs"
    debootstrap --variant=minbase --include=python3,nginx,ca-certificates "$suite" "$rootfs" "$mirror" \
        > "$dest/debootstrap-$suite.log" 2>&1 || { tail -20 "$dest/debootstrap-$suite.log" >&2; exit 1; }
    # Debian's default site listens on port 80 of every address: with host networking it would
    # take the host's port 80 from the other test hosts.
    rm -f "$rootfs/etc/nginx/sites-enabled/default"
    rm -rf "$rootfs/var/cache/apt/archives/"*.deb
    tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/bash"]' - "zdt/debian:$version" >/dev/null
    rm -rf "$rootfs"
}

build_on() {  # BASE_TAG TAG DOCKERFILE (BASE_TAG: zdt/debian's tag to build on)
    # Rebuilt when its Dockerfile changed: the image carries the file's hash as a label.
    recipe=$(sha256sum "$here/$3" | cut -c1-16)
    if [ "$(docker image inspect -f '{{ index .Config.Labels "zdt.recipe" }}' "$2" 2>/dev/null)" = "$recipe" ]; then
        return 0
    fi
    echo "images: $2"
    docker build -q --network host --build-arg "BASE=zdt/debian:$1" --label "zdt.recipe=$recipe" -t "$2" \
        -f "$here/$3" "$here" >/dev/null
}

build_base 12 bookworm
build_base 13 trixie
build_on 12 zdt/debian:12-systemd systemd.Dockerfile
build_on 13 zdt/debian:13-systemd systemd.Dockerfile
build_on 13 zdt/controller:13 controller.Dockerfile
build_on 12-systemd zdt/debian:12-apache apache.Dockerfile
build_on 13-systemd zdt/debian:13-apache apache.Dockerfile
