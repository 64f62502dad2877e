# zerodowntime.acme: the two commands a user needs are `make demo` and `make test`.
# Both set up everything they need on a fresh Debian 12 machine (as root): Debian packages, the
# venv, Pebble, and the ansible_collections tree. Every build output stays under build/.

SHELL      := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT       := $(CURDIR)
BUILD      := $(ROOT)/build
BENCH_VENV := $(BUILD)/bench-venv
VENV       := $(BUILD)/venv
DOCS_VENV  := $(BUILD)/docs-venv
PY         := $(VENV)/bin/python
COLL_ROOT  := $(BUILD)/collections
COLL_LINK  := $(COLL_ROOT)/ansible_collections/zerodowntime/acme
SANITY_DIR := $(BUILD)/sanity/ansible_collections/zerodowntime/acme

# Keep Ansible's state inside the project, never in the user's home.
export ANSIBLE_HOME            := $(BUILD)/ansible
export ANSIBLE_LOCAL_TEMP      := $(BUILD)/ansible/tmp
export ANSIBLE_REMOTE_TEMP     := $(BUILD)/ansible/remote-tmp
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_NOCOLOR         := 1
export NO_COLOR                := 1
export PATH                    := $(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

DEBIAN_LIBS := $(BUILD)/debian-libs

.PHONY: all setup host venv pebble promtool debian-libs collection demo test sanity lint unit integration molecule controllers release bench build lock clean

all: test

## setup: Debian packages, venv, Pebble, promtool, Debian 12's engine libraries and the collection tree (idempotent)
setup: host venv pebble promtool debian-libs collection

host:
	sh tools/setup-host.sh

venv: $(VENV)/.installed
$(VENV)/.installed: requirements/test.txt requirements/constraints.txt | host
	/usr/bin/python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements/test.txt -c requirements/constraints.txt
	touch $@

pebble: $(BUILD)/pebble/bin/pebble
$(BUILD)/pebble/bin/pebble: tools/fetch-pebble.sh tools/private-apt.sh | host
	sh tools/fetch-pebble.sh $(BUILD)/pebble

# Checks and unit-tests the shipped Prometheus alert rules (files/monitoring/).
promtool: $(BUILD)/promtool/bin/promtool
$(BUILD)/promtool/bin/promtool: tools/fetch-promtool.sh tools/private-apt.sh | host
	sh tools/fetch-promtool.sh $(BUILD)/promtool

# The libraries a Debian 12 managed host runs the engine on; unit tests run the engine on them too.
debian-libs: $(DEBIAN_LIBS)/root/.complete
$(DEBIAN_LIBS)/root/.complete: tools/fetch-debian-libs.sh tools/private-apt.sh | host
	sh tools/fetch-debian-libs.sh $(DEBIAN_LIBS)

# Ansible finds the collection through build/collections/ansible_collections/zerodowntime/acme,
# a link to this checkout, so edits take effect at once.
collection: $(COLL_LINK)
$(COLL_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(ROOT) $@

## demo: the nginx role on a container against a local Pebble: served, idempotent, renewed under load
demo: setup
	$(PY) -m tools.demo

## test: everything CI runs: the default controller (ansible-core 2.19) in full, then the matrix
test: setup
	$(MAKE) --no-print-directory sanity lint unit integration molecule controllers release

# ansible-test wants a real ansible_collections/NAMESPACE/NAME tree: copy the files git knows
# there, as a repository of its own (inside this one, build/ is ignored and ansible-test would skip it).
sanity: setup
	rm -rf $(SANITY_DIR) && mkdir -p $(SANITY_DIR)
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t $(SANITY_DIR)
	cd $(SANITY_DIR) && git init -q && git add -A
	mkdir -p $(BUILD)/home/.ansible/test/cache
	cp tools/ansible-test-get-pip.py $(BUILD)/home/.ansible/test/cache/get_pip_24_2.py
	cd $(SANITY_DIR) && HOME=$(BUILD)/home ansible-test sanity --python 3.11 --requirements --color no

lint: setup
	mypy
	ansible-lint --profile production --offline
	ansible-galaxy collection build --force --output-path $(BUILD)/dist .

unit: setup
	pytest -q tests/unit

integration: setup
	pytest -q tests/integration

# Starts dockerd and builds the base images when needed, then runs every scenario against a local Pebble.
molecule: setup
	$(PY) tools/run_molecule.py

# ansible-core 2.20 and 2.21 in a Debian 13 container: sanity, units, the integration tests that run
# through ansible; molecule default on the newest (tools/run_controllers.py).
controllers: setup
	$(PY) tools/run_controllers.py

## release: CHANGELOG.rst for galaxy.yml's version (antsibull-changelog release, when it has none),
## the tarball installed into an empty collections path, ansible-doc on every plugin and role, the
## HTML docs (antsibull-docs, Sphinx with warnings as errors) and a screenshot of the certificate
## module's page in headless Chromium: build/release/ (tools/release.py)
release: setup $(DOCS_VENV)/.installed
	$(DOCS_VENV)/bin/python tools/release.py

$(DOCS_VENV)/.installed: requirements/docs.txt | host
	rm -rf $(DOCS_VENV) && /usr/bin/python3 -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/pip install -q --disable-pip-version-check -r requirements/docs.txt
	touch $@

## bench: the module's no-op against ansible.builtin.stat, the role's no-op converge of 10
## containers against a facts-and-ping play, certbot and community.crypto against ours, and one
## loop item of the module against stat's; recorded in bench/RESULTS.md
bench: setup $(BENCH_VENV)/.installed
	$(PY) bench/noop_vs_stat.py
	$(PY) bench/converge_vs_ping.py
	$(PY) bench/converge_many.py
	$(PY) bench/compare_clients.py
	$(PY) bench/loop_item.py
	$(PY) bench/dns01_vs_http01.py

# certbot for bench/compare_clients.py, in a venv of its own (it needs a newer acme than the tests').
$(BENCH_VENV)/.installed: requirements/bench.txt | host
	rm -rf $(BENCH_VENV) && /usr/bin/python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check -r requirements/bench.txt
	touch $@

build: setup
	ansible-galaxy collection build --force --output-path $(BUILD)/dist .

## lock: re-resolve requirements/constraints.txt from requirements/test.txt
lock: host
	rm -rf $(BUILD)/lock-venv && /usr/bin/python3 -m venv $(BUILD)/lock-venv
	$(BUILD)/lock-venv/bin/pip install -q -r requirements/test.txt
	(echo "# pip freeze of requirements/test.txt on Debian 12 (Python 3.11); regenerate with: make lock"; \
	 $(BUILD)/lock-venv/bin/pip freeze) > requirements/constraints.txt

clean:
	rm -rf $(BUILD) tests/output
