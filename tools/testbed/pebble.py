"""Pebble (the ACME test server) and pebble-challtestsrv (its DNS) on loopback, validating for real.

Nonce rejection (5%) and authorization reuse (50%) stay at Pebble's defaults: the client must cope.
PEBBLE_VA_NOSLEEP only removes Pebble's artificial validation delay.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import urllib.request

from . import procs
from .tlsca import make_api_tls

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAY = 86400
DEFAULT_PROFILES = {"default": {"description": "90-day certificates", "validityPeriod": 90 * DAY}}
DEFAULT_RETRY_AFTER = {"authz": 1, "order": 1}


class Pebble:
    def __init__(self, state_dir: str, *, bin_dir: str = os.path.join(ROOT, "build", "pebble", "bin"),
                 acme_port: int = 14000, management_port: int = 15000, dns_port: int = 8053,
                 dns_management_port: int = 8055, profiles: dict | None = None,
                 eab_keys: dict[str, str] | None = None, alternate_roots: int = 0,
                 retry_after: dict[str, int] | None = None, nonce_reject: int = 5,
                 dns_server: str | None = None) -> None:
        """`eab_keys` (kid -> base64url HMAC key) lets accounts be bound to those keys (not required);
        `alternate_roots` adds cross-signed chains under further roots, offered as alternates;
        `retry_after` is what Pebble tells pollers of a pending authorization or order ({} for
        Pebble's own behaviour, as the benchmark wants it); `nonce_reject` is the percentage of good
        nonces Pebble refuses (its default, 5, for the tests; the benchmark counts requests, and
        certbot retries a refused nonce only once, so it asks for 0). `dns_server` (HOST:PORT): the
        DNS server Pebble asks instead of a challtestsrv of its own (BIND, for dns-01)."""
        self.state_dir = os.path.abspath(state_dir)
        self.bin_dir = bin_dir
        self.acme_port = acme_port
        self.management_port = management_port
        self.dns_port = dns_port
        self.dns_management_port = dns_management_port
        self.profiles = profiles or DEFAULT_PROFILES
        self.eab_keys = eab_keys or {}
        self.alternate_roots = alternate_roots
        self.retry_after = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
        self.nonce_reject = nonce_reject
        self.dns_server = dns_server
        self.directory_url = f"https://127.0.0.1:{acme_port}/dir"
        self.api_ca = os.path.join(self.state_dir, "tls", "ca.pem")
        # The API's CA and Pebble's issuing roots (written by start()): what clients get as ca_bundle.
        self.ca_bundle = os.path.join(self.state_dir, "ca-bundle.pem")
        self.log_path = os.path.join(self.state_dir, "pebble.log")
        self._pebble = None
        self._dns = None

    def start(self) -> "Pebble":
        os.makedirs(self.state_dir, exist_ok=True)
        ports = (self.acme_port, self.management_port) + (() if self.dns_server else (self.dns_management_port,))
        for port in ports:
            if procs.port_in_use("127.0.0.1", port):
                raise RuntimeError(f"127.0.0.1:{port} is taken; is another Pebble running?")
        _ca, cert, key = make_api_tls(os.path.join(self.state_dir, "tls"))
        config = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.acme_port}",
            "managementListenAddress": f"127.0.0.1:{self.management_port}",
            "certificate": cert, "privateKey": key,
            # The CA fetches http://NAME/ on port 80, as in production.
            "httpPort": 80, "tlsPort": 443,
            "ocspResponderURL": "", "externalAccountBindingRequired": False,
            **({"retryAfter": self.retry_after} if self.retry_after else {}),
            "keyAlgorithm": "ecdsa",
            "profiles": self.profiles,
            "externalAccountMACKeys": self.eab_keys,
        }}
        config_path = os.path.join(self.state_dir, "pebble-config.json")
        with open(config_path, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
        dns = self.dns_server or f"127.0.0.1:{self.dns_port}"
        if not self.dns_server:
            self._start_challtestsrv(dns)
        self._pebble = procs.start(
            [os.path.join(self.bin_dir, "pebble"), "-config", config_path, "-dnsserver", dns],
            self.log_path, env={"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_ALTERNATE_ROOTS": str(self.alternate_roots),
                                "PEBBLE_WFE_NONCEREJECT": str(self.nonce_reject)},
        )
        procs.wait_for_port("127.0.0.1", self.acme_port, proc=self._pebble)
        procs.wait_for_port("127.0.0.1", self.management_port, proc=self._pebble)
        # Pebble's issuing roots join its API's CA in the clients' ca_bundle, as a private CA's root
        # is in its users' ca_bundle: the engine looks the root a chain leads to up there, and a
        # pool's members trust what the issuer recorded (plugins/module_utils/roots.py).
        with open(self.api_ca, "rb") as api_ca:
            trusted = api_ca.read() + b"".join(self.root_pem(index) for index in range(1 + self.alternate_roots))
        with open(self.ca_bundle, "wb") as bundle:
            bundle.write(trusted)
        return self

    def _start_challtestsrv(self, dns: str) -> None:
        self._dns = procs.start([
            os.path.join(self.bin_dir, "pebble-challtestsrv"),
            "-management", f"127.0.0.1:{self.dns_management_port}", "-dnsserver", dns,
            "-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "",
            "-defaultIPv4", "", "-defaultIPv6", "",
        ], os.path.join(self.state_dir, "challtestsrv.log"))
        procs.wait_for_port("127.0.0.1", self.dns_management_port, proc=self._dns)

    def stop(self) -> None:
        procs.stop(self._pebble)
        procs.stop(self._dns)

    def add_a(self, host: str, address: str) -> None:
        """Make `host` resolve to `address` for Pebble's validation."""
        body = json.dumps({"host": host, "addresses": [address]}).encode()
        url = f"http://127.0.0.1:{self.dns_management_port}/add-a"
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=5):
            pass

    def root_pem(self, index: int = 0) -> bytes:
        """Pebble's current root (it changes on every start); 1.. are the alternate roots."""
        return self._management_get(f"/roots/{index}")

    def cert_status(self, serial_hex: str) -> dict:
        """What Pebble holds about a certificate: {"Status": "Valid"|"Revoked", "Reason": ...}."""
        return json.loads(self._management_get(f"/cert-status-by-serial/{serial_hex}"))

    def _management_get(self, path: str) -> bytes:
        context = ssl.create_default_context(cafile=self.api_ca)
        url = f"https://127.0.0.1:{self.management_port}{path}"
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            return bytes(response.read())

    def request_count(self) -> int:
        """How many ACME requests Pebble has logged so far."""
        return len(self.requests())

    def requests(self) -> list[str]:
        """Every ACME request Pebble has logged so far, as "METHOD /path"."""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return [line.split(" ", 3)[3].split(" -> ")[0] for line in f if "-> calling handler()" in line]

    def order_events(self) -> list[tuple[str, str]]:
        """("placed" | "finalized", order id) for every order Pebble added to its db or finalized, in
        log order. Pebble logs each event once, whatever a client had to send again, so these counts
        hold with many clients at once (the requests' do not: see without_nonce_retries)."""
        events = []
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                placed = re.search(r'Added order "([^"]+)" to the db', line)
                finalized = re.search(r"Order (\S+) is fully authorized\. Processing finalization", line)
                if placed or finalized:
                    events.append(("placed", placed.group(1)) if placed else ("finalized", finalized.group(1)))
        return events


def without_nonce_retries(sent: list[str]) -> list[str]:
    """The requests without the POSTs that Pebble made the client send twice: it refuses 5% of good
    nonces, and the client fetches a new one and signs the same request again (POST X, HEAD, POST X).
    Exact for one client thread only: with several, another thread's first nonce and request can
    make the same pattern (count orders with Pebble.order_events then)."""
    return [request for index, request in enumerate(sent)
            if not (request.startswith("POST ") and sent[index + 1:index + 3] == ["HEAD /nonce-plz", request])]
