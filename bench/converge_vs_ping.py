"""The nginx role's no-op converge on 10 containers against a play that gathers facts and pings them.

A fleet pays a play per host per task, so the role's converge with nothing to do is measured against
the cheapest play there is on the same 10 hosts: gather facts, then ansible.builtin.ping. Both run
with the same forks, connection and inventory, interleaved round by round so that machine load hits
both alike; the wall time of each whole ansible-playbook run is taken. The hosts are real containers
(the Molecule base image, host networking, one 127.0.0.x each) that hold real certificates from a
local Pebble, issued by a first converge before the measurement. Goal: no-op converge <= 3x the play.

In the same rounds, the certificate module alone on the 10 hosts (nothing due) against ping alone,
both without facts: the fleet-wide ad hoc check. Goal (issue 13): at most 1.2x ping.

Usage: make bench   (prints a Markdown row for bench/RESULTS.md)
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.testbed import docker  # noqa: E402
from tools.testbed.pebble import Pebble  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, "build", "bench-fleet")
HOSTS = [f"zdt-bench-{n:02d}" for n in range(1, 11)]
ROUNDS = 5
IMAGE = "zdt/debian:12"
CA_BUNDLE = "/usr/local/share/zdt-test/pebble-api-ca.pem"


def _address(index: int) -> str:
    return f"127.0.0.{111 + index}"


def _inventory(pebble: Pebble) -> str:
    hosts = {}
    for index, host in enumerate(HOSTS):
        name = f"{host}.zdt.test"
        hosts[host] = {
            "zdt_address": _address(index),
            "zerodowntime_acme_http_listen": [f"{_address(index)}:80"],
            "zerodowntime_acme_certificates": [{"domains": [name]}],
        }
        pebble.add_a(name, _address(index))
    return write_inventory(STATE, hosts, pebble)


def write_inventory(state: str, hosts: dict[str, dict], pebble: Pebble) -> str:
    """The containers, reached through docker, with the nginx role's settings for this Pebble."""
    inventory = {"all": {"hosts": hosts, "vars": {
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
        "zerodowntime_acme_directory_url": pebble.directory_url,
        "zerodowntime_acme_ca_bundle": CA_BUNDLE,
        "zerodowntime_acme_terms_agreed": True,
        "zerodowntime_acme_http_server": True,
    }}}
    path = os.path.join(state, "inventory.yml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(inventory, f)
    return path


def prepare_play(pebble_api_ca: str) -> list[dict]:
    """Each host trusts Pebble's API (zerodowntime_acme_ca_bundle points here)."""
    return [{"hosts": "all", "gather_facts": False, "tasks": [
        {"name": "Create the folder for the test CA",
         "ansible.builtin.file": {"path": "/usr/local/share/zdt-test", "state": "directory", "mode": "0755"}},
        {"name": "Trust the CA of Pebble's API",
         "ansible.builtin.copy": {"src": pebble_api_ca, "dest": CA_BUNDLE, "mode": "0644"}},
    ]}]


def write_playbooks(state: str, plays: dict[str, list[dict]]) -> dict[str, str]:
    paths = {}
    for name, play in plays.items():
        paths[name] = os.path.join(state, f"{name}.yml")
        with open(paths[name], "w", encoding="utf-8") as f:
            yaml.safe_dump(play, f, sort_keys=False)
    return paths


def _playbooks() -> dict[str, str]:
    plays = {
        "prepare": prepare_play(os.path.join(STATE, "pebble", "pebble-api-ca.pem")),
        "converge": [{"hosts": "all", "roles": [{"role": "zerodowntime.acme.nginx"}]}],
        "ping": [{"hosts": "all", "gather_facts": True, "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}],
        # The module alone on each host, nothing due, against ping alone: a fleet's ad hoc check.
        "ping_only": [{"hosts": "all", "gather_facts": False, "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}],
        "module": [{"hosts": "all", "gather_facts": False, "tasks": [{
            "name": "The host's certificate, nothing due",
            "zerodowntime.acme.certificate": {
                "domains": ["{{ inventory_hostname }}.zdt.test"], "name": "{{ inventory_hostname }}.zdt.test",
                "webroot": "/var/www/well-known", "cert_dir": "/etc/zerodowntime-acme/live",
                "account_key": "{{ zerodowntime_acme_directory_url | zerodowntime.acme.account_key_path }}",
                "directory_url": "{{ zerodowntime_acme_directory_url }}",
                "ca_bundle": "{{ zerodowntime_acme_ca_bundle }}", "terms_agreed": True}}]}],
    }
    return write_playbooks(STATE, plays)


def run_playbook(playbook: str, inventory: str, env: dict[str, str]) -> tuple[float, str]:
    start = time.monotonic()
    done = subprocess.run(["ansible-playbook", "-i", inventory, playbook], env=env, capture_output=True,
                          text=True, check=False)
    elapsed = time.monotonic() - start
    if done.returncode:
        sys.exit(f"{os.path.basename(playbook)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def changed_count(recap: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", recap))


def main() -> None:
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    docker.ensure_engine_and_images()
    pebble = Pebble(os.path.join(STATE, "pebble"), acme_port=14400, management_port=15400,
                    dns_port=8453, dns_management_port=8455).start()
    shutil.copy(pebble.ca_bundle, os.path.join(STATE, "pebble", "pebble-api-ca.pem"))
    env = dict(os.environ, ANSIBLE_FORKS=str(len(HOSTS)), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_HOST_KEY_CHECKING="false")
    try:
        for index, host in enumerate(HOSTS):
            docker.plain_container(host, IMAGE, {f"{host}.zdt.test": _address(index)})
        inventory = _inventory(pebble)
        playbooks = _playbooks()
        run_playbook(playbooks["prepare"], inventory, env)
        first = run_playbook(playbooks["converge"], inventory, env)[0]
        orders = pebble.request_count()
        times: dict[str, list[float]] = {"ping": [], "converge": [], "ping_only": [], "module": []}
        for _round in range(ROUNDS):
            for name in times:
                elapsed, recap = run_playbook(playbooks[name], inventory, env)
                if name in ("converge", "module") and changed_count(recap):
                    sys.exit(f"the no-op {name} changed something:\n{recap[-3000:]}")
                times[name].append(elapsed)
        asked = pebble.request_count() - orders
    finally:
        for host in HOSTS:
            docker.remove(host)
        pebble.stop()
    ping, converge = (statistics.median(times[k]) for k in ("ping", "converge"))
    print(f"first converge (10 hosts, issuing): {first:.1f} s; requests to the CA during the no-op rounds: {asked}")
    print(f"ping + facts: {[round(t, 1) for t in times['ping']]}")
    print(f"no-op converge: {[round(t, 1) for t in times['converge']]}")
    print("| date | hosts | rounds | facts + ping | no-op converge | ratio |")
    print(f"| {datetime.date.today()} | {len(HOSTS)} | {ROUNDS} | {ping:.1f} s | {converge:.1f} s | {converge / ping:.2f}x |")
    ping_only, module = (statistics.median(times[k]) for k in ("ping_only", "module"))
    print(f"ping alone: {[round(t, 1) for t in times['ping_only']]}")
    print(f"certificate module, nothing due: {[round(t, 1) for t in times['module']]}")
    print("| date | hosts | rounds | ping | certificate module, nothing due | ratio |")
    print(f"| {datetime.date.today()} | {len(HOSTS)} | {ROUNDS} | {ping_only:.1f} s | {module:.1f} s | "
          f"{module / ping_only:.2f}x |")


if __name__ == "__main__":
    main()
