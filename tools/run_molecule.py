"""Run Molecule scenarios against a local Pebble: `python tools/run_molecule.py [SCENARIO...]`.

Starts dockerd when none runs and builds the base images (tools/dockerd.sh, tools/images/build.sh),
starts Pebble and its DNS on the host's loopback (and BIND with a second Pebble for dns-01), passes their addresses to the scenarios through
ZDT_* variables, and keeps Molecule's state under build/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.testbed.bind import PRIMARY, RESOLVER, UPDATE_KEY, Bind  # noqa: E402
from tools.testbed.docker import ensure_engine_and_images  # noqa: E402
from tools.testbed.pebble import Pebble  # noqa: E402
from tools.testbed.tripwire import Tripwire  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
STATE = os.path.join(BUILD, "molecule-run")
SCENARIOS = ["default", "fleet", "renewal", "pool", "offline", "dns", "apache"]


def main(scenarios: list[str]) -> int:
    if not os.environ.get("ZDT_ENGINE_READY"):  # set where the caller (a controller container) did it
        ensure_engine_and_images()
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    pebble = Pebble(os.path.join(STATE, "pebble"), acme_port=14300, management_port=15300,
                    dns_port=8353, dns_management_port=8355).start()
    tripwire = Tripwire(os.path.join(STATE, "tripwire.log")).start()
    # dns-01 (the `dns` scenario): BIND, and a Pebble that asks BIND's resolver. Only for that
    # scenario: a controller container, which runs `default`, has no BIND.
    scenarios = scenarios or SCENARIOS
    bind = Bind(os.path.join(STATE, "bind")).start() if "dns" in scenarios else None
    dns_pebble = Pebble(os.path.join(STATE, "pebble-dns"), acme_port=14310, management_port=15310,
                        dns_server=f"{RESOLVER}:53").start() if bind else None
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
    if bind and dns_pebble:
        env.update(ZDT_DNS_DIRECTORY_URL=dns_pebble.directory_url, ZDT_DNS_CA_BUNDLE=dns_pebble.ca_bundle,
                   ZDT_DNS_SERVER=PRIMARY, ZDT_DNS_RESOLVER=RESOLVER, ZDT_DNS_KEY_NAME=UPDATE_KEY,
                   ZDT_DNS_KEY_SECRET=bind.secrets[UPDATE_KEY])
    failed = []
    try:
        for scenario in scenarios:
            print(f"==== molecule test -s {scenario}", flush=True)
            if subprocess.run(["molecule", "test", "-s", scenario], env=env, cwd=ROOT, check=False).returncode:
                failed.append(scenario)
    finally:
        tripwire.stop()
        for server in (dns_pebble, bind, pebble):
            if server:
                server.stop()
    print(f"molecule: {len(scenarios) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
