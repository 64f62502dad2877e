# shellcheck shell=sh
# Sourced by the fetch scripts: an apt of their own for one Debian suite, so that the system's
# sources, lists and cache stay untouched. The mirror is the one this machine's apt already uses.
# Usage: . tools/private-apt.sh; private_apt WORK SUITE   (then apt-get download works in WORK)

private_apt() {
    work=$1
    suite=$2
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    # $(REPO_URI) is apt's format placeholder, not a shell expansion.
    # shellcheck disable=SC2016
    mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
        | awk -v c="$codename" '$2 == c { print $1; exit }')
    if [ -z "$mirror" ]; then
        echo "private-apt: no apt source for '$codename' found on this machine" >&2
        return 1
    fi
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc/parts"
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
    APT_CONFIG="$work/apt.conf"
    export APT_CONFIG
    apt-get update -q
}
