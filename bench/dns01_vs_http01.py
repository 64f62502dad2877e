"""One issuance over dns-01 against one over http-01, side by side in one run: the engine's
issuance.ensure, in-process, for a new name each round, alternated.

http-01 goes to a Pebble whose DNS is challtestsrv, against nginx on 127.0.0.4; dns-01 to a Pebble
that asks BIND's resolver, the TXT records written into BIND's primary with a TSIG key (the probe
before the order, the value, the check of every authoritative nameserver, the deletion). Both
Pebbles answer as they do by themselves (no Retry-After, no refused nonce), so the figures hold
what the client does, not the CA's poll schedule.

Usage: make bench   (prints Markdown rows for bench/RESULTS.md)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "collections"))

from ansible_collections.zerodowntime.acme.plugins.module_utils import issuance  # noqa: E402
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec  # noqa: E402
from tools.testbed.bind import RESOLVER, Bind  # noqa: E402
from tools.testbed.pebble import Pebble  # noqa: E402
from tools.testbed.stack import ca_and_web  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, "build", "bench-dns01")
ROUNDS = 8
HTTP_NAMES = [f"h{n}.zdt.test" for n in range(ROUNDS + 1)]


def _issue(spec: CertificateSpec) -> tuple[float, float]:
    """(wall, CPU) seconds of one issuance; the difference is time spent waiting on the CA or DNS."""
    start, cpu = time.perf_counter(), time.process_time()
    outcome = issuance.ensure(spec)
    took = time.perf_counter() - start, time.process_time() - cpu
    assert outcome.renewed, outcome
    return took


def main() -> None:
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    bind = Bind(os.path.join(STATE, "bind")).start()
    dns_pebble = Pebble(os.path.join(STATE, "pebble-dns"), acme_port=14210, management_port=15210, retry_after={},
                        nonce_reject=0, dns_server=f"{RESOLVER}:53")
    try:
        dns_pebble.start()
        http_ports = dict(acme_port=14200, management_port=15200, dns_port=8253, dns_management_port=8255)
        with ca_and_web(os.path.join(STATE, "http"), "127.0.0.4", HTTP_NAMES, retry_after={}, nonce_reject=0,
                        **http_ports) as (http_pebble, nginx):
            def http(n: int) -> CertificateSpec:
                return CertificateSpec.from_options(dict(
                    domains=[HTTP_NAMES[n]], webroot=nginx.webroot, cert_dir=os.path.join(STATE, "live-http"),
                    account_key=os.path.join(STATE, "http.pem"), directory_url=http_pebble.directory_url,
                    ca_bundle=http_pebble.ca_bundle, terms_agreed=True))

            def dns(n: int) -> CertificateSpec:
                return CertificateSpec.from_options(dict(
                    domains=[f"d{n}.dns.zdt.test"], challenge="dns-01", dns=bind.update_key,
                    cert_dir=os.path.join(STATE, "live-dns"), account_key=os.path.join(STATE, "dns.pem"),
                    directory_url=dns_pebble.directory_url, ca_bundle=dns_pebble.ca_bundle, terms_agreed=True))

            _issue(http(ROUNDS))  # each account created, each first connection made, outside the rounds
            _issue(dns(ROUNDS))
            times: dict[str, list[tuple[float, float]]] = {"http-01": [], "dns-01": []}
            for n in range(ROUNDS):
                times["http-01"].append(_issue(http(n)))
                times["dns-01"].append(_issue(dns(n)))
    finally:
        dns_pebble.stop()
        bind.stop()
    (http_wall, http_cpu), (dns_wall, dns_cpu) = (
        tuple(statistics.median(run[i] for run in times[kind]) for i in (0, 1)) for kind in ("http-01", "dns-01"))
    print(f"| one issuance, new name, engine in-process ({ROUNDS} rounds, alternated) | http-01 median "
          f"{http_wall * 1000:.0f} ms ({http_cpu * 1000:.0f} ms CPU) | dns-01 (BIND, TSIG, every nameserver checked) "
          f"median {dns_wall * 1000:.0f} ms ({dns_cpu * 1000:.0f} ms CPU) | {dns_wall / http_wall:.2f}x |")


if __name__ == "__main__":
    main()
