#!/bin/sh
# Runs inside zdt/controller:13, started by tools/run_controllers.py from the checkout's root:
# makes the venv of one ansible-core version when its requirements changed, then runs the steps.
# Usage: controller.sh VERSION STEP...
#   sanity       ansible-test sanity with that version's rules
#   unit         the unit tests
#   integration  the integration tests that run the modules through `ansible`
# (both leave out the tests marked controller_independent, which the default path runs)
#   molecule     molecule test -s default
set -eu

version=$1
shift
root=$(pwd)
base=$root/build/controllers/$version
venv=$base/venv
requirements=requirements/controller-$version.txt
stamp=$venv/.installed-$(cat "$requirements" requirements/controller-common.txt | sha256sum | cut -c1-16)
if [ ! -e "$stamp" ]; then
    echo "controller $version: venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$requirements"
    touch "$stamp"
fi

# Each controller keeps Ansible's state apart; the collection is found through the same link.
export PATH="$venv/bin:$PATH" PYTHONDONTWRITEBYTECODE=1 ANSIBLE_NOCOLOR=1 NO_COLOR=1
export ANSIBLE_HOME="$base/ansible" ANSIBLE_LOCAL_TEMP="$base/ansible/tmp" ANSIBLE_REMOTE_TEMP="$base/ansible/remote-tmp"
export ANSIBLE_COLLECTIONS_PATH="$root/build/collections"
python=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

for step in "$@"; do
    echo "==== ansible-core $version (Python $python): $step"
    case $step in
    sanity)
        # As `make sanity`: a copy of the files git knows, as a repository of its own.
        tree=$base/sanity/ansible_collections/zerodowntime/acme
        rm -rf "$tree" && mkdir -p "$tree"
        git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tree"
        (cd "$tree" && git init -q && git add -A)
        # ansible-test fetches get-pip from a host not reachable here; it documents this cache.
        pip_version=$(sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" \
            "$venv"/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
        mkdir -p "$base/home/.ansible/test/cache"
        cp tools/ansible-test-get-pip.py "$base/home/.ansible/test/cache/get_pip_$(echo "$pip_version" | tr . _).py"
        (cd "$tree" && HOME=$base/home ansible-test sanity --python "$python" --requirements --color no)
        ;;
    unit) pytest -q -p no:cacheprovider -m "not controller_independent" tests/unit ;;
    integration) pytest -q -p no:cacheprovider -m "not controller_independent" tests/integration ;;
    molecule) ZDT_ENGINE_READY=1 python tools/run_molecule.py default ;;
    *) echo "controller.sh: unknown step '$step'" >&2; exit 2 ;;
    esac
done
