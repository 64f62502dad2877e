"""`make demo`: the nginx role on one container (Debian 12, systemd) against a local Pebble.

It shows the HTTPS response and its certificate, a second run with 0 changed, and a forced
renewal under HTTPS load with 0 failed requests. Everything stays on loopback; the container
uses the host's network with its own address, 127.0.0.41.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from tools.testbed import docker, https_check, load
from tools.testbed.pebble import Pebble

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE = os.path.join(ROOT, "build", "demo")
CONTAINER = "zdt-demo"
ADDRESS = "127.0.0.41"
NAME = "demo.zdt.test"


def banner(text: str) -> None:
    print(f"\n==== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def write_inventory(pebble: Pebble) -> str:
    host = {
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
        "demo_address": ADDRESS,
        "zerodowntime_acme_directory_url": pebble.directory_url,
        "zerodowntime_acme_ca_bundle": "/usr/local/share/zdt-demo/pebble-api-ca.pem",
        "zerodowntime_acme_terms_agreed": True,
        "zerodowntime_acme_account_email": "demo@zdt.test",
        "zerodowntime_acme_http_server": True,
        "zerodowntime_acme_http_listen": [f"{ADDRESS}:80"],
        "zerodowntime_acme_certificates": [{"domains": [NAME]}],
    }
    path = os.path.join(STATE, "inventory.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"demo": {"hosts": {CONTAINER: host}}}, f, indent=2)
    return path


def run_playbook(inventory: str) -> str:
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false")
    done = subprocess.run(["ansible-playbook", "-i", inventory, os.path.join(ROOT, "tools", "demo", "site.yml")],
                          env=env, capture_output=True, text=True, check=False)
    print(done.stdout, end="")
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"the demo playbook failed with exit code {done.returncode}")
    return next(line for line in reversed(done.stdout.splitlines()) if line.startswith(CONTAINER))


def main() -> None:
    docker.ensure_engine_and_images()
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    # Ports apart from the tests', so that both can run side by side.
    pebble = Pebble(os.path.join(STATE, "pebble"), acme_port=14100, management_port=15100,
                    dns_port=8153, dns_management_port=8155).start()
    try:
        pebble.add_a(NAME, ADDRESS)
        docker.systemd_container(CONTAINER, "zdt/debian:12-systemd", {NAME: ADDRESS})
        subprocess.run(["docker", "exec", CONTAINER, "systemctl", "is-system-running", "--wait"],
                       capture_output=True, check=False)
        subprocess.run(["docker", "exec", CONTAINER, "mkdir", "-p", "/usr/local/share/zdt-demo"], check=True)
        subprocess.run(["docker", "cp", pebble.ca_bundle, f"{CONTAINER}:/usr/local/share/zdt-demo/pebble-api-ca.pem"],
                       check=True)
        inventory = write_inventory(pebble)

        banner("run 1: a Debian 12 host with nginx and nothing else")
        first = run_playbook(inventory)

        banner(f"https://{NAME}/ as a client sees it")
        root = os.path.join(STATE, "pebble-root.pem")
        with open(root, "wb") as f:
            f.write(pebble.root_pem())
        seen = https_check.check(ADDRESS, NAME, root)
        print(f"  response: {seen['body']}")
        print(f"  subject:  {seen['subject'] or '(empty: Pebble puts the names in the SAN only)'}")
        print(f"  names:    {', '.join(seen['names'])}")
        print(f"  issuer:   {seen['issuer']}")
        print(f"  expires:  {seen['not_after']}")
        print("  chain verified against Pebble's root from its management API")

        banner("run 2: nothing is due")
        second = run_playbook(inventory)

        banner("zerodowntime-acme renew --force, on the host, under HTTPS load")
        forced = load.run(ADDRESS, NAME, root, f"docker exec {CONTAINER} zerodowntime-acme renew --force",
                          workers=4, max_seconds=120)
        print(forced["command"]["output"])
        print(f"  {forced['requests']} requests in {forced['seconds']} s, {forced['failures']} failed")
        print(f"  serials served: {' then '.join(forced['serials'])} ({forced['switches']} switches while "
              "the old workers finished their requests)")

        banner("summary")
        print(f"  run 1: {first.split(':', 1)[-1].strip()}")
        print(f"  run 2: {second.split(':', 1)[-1].strip()}")
        print(f"  forced renewal under load: {forced['requests']} requests, {forced['failures']} failed, "
              f"serial {forced['serials'][0]} -> {forced['serials'][-1]}")
        if "changed=0" not in second or forced["failures"] or len(forced["serials"]) < 2:
            raise SystemExit("the demo did not go as it should: see above")
    finally:
        docker.remove(CONTAINER)
        pebble.stop()


if __name__ == "__main__":
    main()
