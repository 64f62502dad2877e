"""The controller matrix beyond the default one: `python tools/run_controllers.py [VERSION...]`.

ansible-core 2.20 and 2.21 need Python 3.12 or newer, which Debian 12 does not have, so each runs in
zdt/controller:13 (Debian 13, Python 3.13; tools/images/) on the host's network, with this checkout
mounted at the same path and the Docker socket for Molecule. tools/controller.sh makes each
version's venv under build/controllers/VERSION/ and runs its steps. The default controller
(ansible-core 2.19 on Debian 12's Python 3.11) is `make test`'s own path and runs everything.
"""

from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.testbed.docker import ensure_engine_and_images  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = "zdt/controller:13"
# What each controller runs; the newest also converges the role with Molecule.
MATRIX = {
    "2.20": ["sanity", "unit", "integration"],
    "2.21": ["sanity", "unit", "integration", "molecule"],
}
# The host's CA bundle and pip settings, so that pip inside reaches the registry as the host does.
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PASSED_ENV = ["PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "HTTP_PROXY", "HTTPS_PROXY",
              "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"]


def run(version: str, steps: list[str]) -> int:
    name = f"zdt-controller-{version.replace('.', '-')}"
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    command = ["docker", "run", "--rm", "--name", name, "--network", "host",
               "-v", f"{ROOT}:{ROOT}", "-w", ROOT,
               "-v", "/var/run/docker.sock:/var/run/docker.sock",
               "-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro", "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1"]
    for variable in PASSED_ENV:
        if variable in os.environ:
            command += ["-e", variable]
    command += [IMAGE, "sh", "tools/controller.sh", version, *steps]
    print(f"==== controller ansible-core {version}: {' '.join(steps)}", flush=True)
    return subprocess.run(command, check=False).returncode


def main(versions: list[str]) -> int:
    unknown = [v for v in versions if v not in MATRIX]
    if unknown:
        print(f"run_controllers: no controller {', '.join(unknown)}; known: {', '.join(MATRIX)}", file=sys.stderr)
        return 2
    ensure_engine_and_images()
    failed = [v for v in versions or list(MATRIX) if run(v, MATRIX[v])]
    print(f"controllers: {len(versions or MATRIX) - len(failed)} passed, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
