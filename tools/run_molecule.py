"""Run Molecule scenarios against a local Pebble: `python tools/run_molecule.py [SCENARIO...]`.

Starts dockerd when none runs and builds the base images (tools/dockerd.sh, tools/images/build.sh),
starts Pebble and its DNS on the host's loopback, passes their addresses to the scenarios through
ZDT_* variables, and keeps Molecule's state under build/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.testbed.docker import ensure_engine_and_images  # noqa: E402
from tools.testbed.pebble import Pebble  # noqa: E402
from tools.testbed.tripwire import Tripwire  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
STATE = os.path.join(BUILD, "molecule-run")
SCENARIOS = ["default", "fleet", "renewal", "pool", "offline"]


def main(scenarios: list[str]) -> int:
    if not os.environ.get("ZDT_ENGINE_READY"):  # set where the caller (a controller container) did it
        ensure_engine_and_images()
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    pebble = Pebble(os.path.join(STATE, "pebble"), acme_port=14300, management_port=15300,
                    dns_port=8353, dns_management_port=8355).start()
    tripwire = Tripwire(os.path.join(STATE, "tripwire.log")).start()
    env = dict(
        os.environ,
        ZDT_PROJECT=ROOT,
        ZDT_STATE=STATE,
        ZDT_DIRECTORY_URL=pebble.directory_url,
        ZDT_PEBBLE_API_CA=pebble.ca_bundle,
        ZDT_PEBBLE_MANAGEMENT=f"https://127.0.0.1:{pebble.management_port}",
        ZDT_CHALLTESTSRV=f"http://127.0.0.1:{pebble.dns_management_port}",
        # Where the `offline` scenario's CA would be: any connection there is logged.
        ZDT_TRIPWIRE_URL=tripwire.url,
        ZDT_TRIPWIRE_LOG=tripwire.log_path,
        # Molecule's and ansible-compat's state stay in the project.
        XDG_CACHE_HOME=os.path.join(BUILD, "cache"),
        MOLECULE_GLOB="molecule/*/molecule.yml",
        ANSIBLE_LOCALHOST_WARNING="false",
    )
    failed = []
    try:
        for scenario in scenarios or SCENARIOS:
            print(f"==== molecule test -s {scenario}", flush=True)
            if subprocess.run(["molecule", "test", "-s", scenario], env=env, cwd=ROOT, check=False).returncode:
                failed.append(scenario)
    finally:
        tripwire.stop()
        pebble.stop()
    print(f"molecule: {len(scenarios or SCENARIOS) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
