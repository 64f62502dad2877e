"""The nginx role's no-op converge of a host with 100 certificates against one with 1 (issue 22).

A host that serves many sites must not pay per certificate on every converge: the role orders
through one zerodowntime.acme.certificates task, and writes its files in one host_files call. Two
containers (the Molecule base image, host networking, one 127.0.0.x each) hold real certificates
from a local Pebble, issued by a first converge of each; then each host's no-op converge runs as
a play of its own, the two interleaved round by round so that machine load hits both alike. The
wall time of each whole ansible-playbook run is taken. Goal: 100 certificates <= 1.5x 1.

Usage: make bench   (prints a Markdown row for bench/RESULTS.md)
"""

from __future__ import annotations

import datetime
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.converge_vs_ping import (  # noqa: E402
    IMAGE, changed_count, prepare_play, run_playbook, write_inventory, write_playbooks)
from tools.testbed import docker  # noqa: E402
from tools.testbed.pebble import Pebble  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, "build", "bench-many")
HOSTS = {"zdt-many-1": ("127.0.0.131", 1), "zdt-many-100": ("127.0.0.132", 100)}
ROUNDS = 5


def _names(host: str, count: int) -> list[str]:
    return [f"site{n:03d}.{host}.zdt.test" for n in range(count)]


def _inventory(pebble: Pebble) -> str:
    hosts = {}
    for host, (address, count) in HOSTS.items():
        for name in _names(host, count):
            pebble.add_a(name, address)
        hosts[host] = {
            "zerodowntime_acme_http_listen": [f"{address}:80"],
            "zerodowntime_acme_certificates": [{"domains": [name]} for name in _names(host, count)],
        }
    return write_inventory(STATE, hosts, pebble)


def main() -> None:
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    docker.ensure_engine_and_images()
    pebble = Pebble(os.path.join(STATE, "pebble"), acme_port=14410, management_port=15410,
                    dns_port=8463, dns_management_port=8465).start()
    plays = {"prepare": prepare_play(pebble.ca_bundle)}
    plays.update({host: [{"hosts": host, "roles": [{"role": "zerodowntime.acme.nginx"}]}] for host in HOSTS})
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_HOST_KEY_CHECKING="false")
    try:
        for host, (address, count) in HOSTS.items():
            docker.plain_container(host, IMAGE, dict.fromkeys(_names(host, count), address))
        inventory = _inventory(pebble)
        playbooks = write_playbooks(STATE, plays)
        run_playbook(playbooks["prepare"], inventory, env)
        first = {host: run_playbook(playbooks[host], inventory, env)[0] for host in HOSTS}
        orders = pebble.request_count()
        times: dict[str, list[float]] = {host: [] for host in HOSTS}
        for _round in range(ROUNDS):
            for host in HOSTS:
                elapsed, recap = run_playbook(playbooks[host], inventory, env)
                if changed_count(recap):
                    sys.exit(f"the no-op converge of {host} changed something:\n{recap[-3000:]}")
                times[host].append(elapsed)
        asked = pebble.request_count() - orders
    finally:
        for host in HOSTS:
            docker.remove(host)
        pebble.stop()
    one, many = (statistics.median(times[host]) for host in HOSTS)
    print(f"first converge (issuing): 1 certificate {first['zdt-many-1']:.1f} s, "
          f"100 certificates {first['zdt-many-100']:.1f} s; requests to the CA during the no-op rounds: {asked}")
    for host in HOSTS:
        print(f"{host} no-op converge: {[round(t, 1) for t in times[host]]}")
    print("| date | rounds | 1 certificate | 100 certificates | ratio |")
    print(f"| {datetime.date.today()} | {ROUNDS} | {one:.1f} s | {many:.1f} s | {many / one:.2f}x |")


if __name__ == "__main__":
    main()
