# The Ansible controller for ansible-core 2.20 and 2.21, which need Python 3.12 or newer: Debian 13's
# Python 3.13 on the locally built zdt/debian:13. Venvs live in the checkout (build/controllers/),
# which is mounted at the same path, so this image holds no Python package of its own.
ARG BASE
FROM ${BASE}
# git: ansible-test lists the collection's files with it; shellcheck: its sanity test; nginx (in
# the base), openssl and caddy (the second CA): the integration tests'; docker-cli: Molecule's
# connection to its instances (the host's engine, through the mounted socket).
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        python3-venv git shellcheck openssl caddy docker-cli \
    && rm -rf /var/lib/apt/lists/*
CMD ["/bin/bash"]
