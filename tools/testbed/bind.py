"""BIND 9 (Debian's `bind9`) on loopback as the authoritative server of the dns-01 test zones, with
TSIG keys for dynamic updates; a second BIND as a secondary that takes transfers only when a test
says so (a nameserver lagging behind its primary); and a third as the recursive resolver that
Pebble and the engine ask, as a CA and a host ask theirs. The CA validates the TXT records for
real, through CNAMEs as a resolver follows them (an authoritative server does not follow a CNAME
into another zone).

The resolver knows the test zones by static-stub and serves an empty root of its own, so no query
ever leaves loopback. It keeps answers for a second and negative answers not at all: the CA's
resolvers are not the host's, and a test must not meet what an earlier test left in a cache.

Zones (all on the primary, 127.0.0.61:53; the resolver is 127.0.0.63:53):
- dns.zdt.test: the certificates' names; the update key may change TXT records under
  _acme-challenge; `_acme-challenge.cname` is a CNAME into alias.zdt.test (delegation).
- alias.zdt.test: where delegated challenge records are written.
- acme.zdt.test: the zone of the acme-dns test server (acmedns.py), whose accounts' records it holds.
- lag.zdt.test: served by the primary and by the secondary (127.0.0.62), which sees a change only
  after transfer() (the primary sends no NOTIFY, the secondary never refreshes by itself).

Keys: `zdt-update` may update the TXT records; `zdt-nogrant` is known but granted nothing (the
server answers REFUSED).

named listens on the addresses of interfaces only, so start() puts the two addresses on `lo`
(127.0.0.0/8 is routed there anyway) and stop() takes away those it added.
"""

from __future__ import annotations

import base64
import os
import subprocess

from . import procs

PRIMARY = "127.0.0.61"
SECONDARY = "127.0.0.62"
RESOLVER = "127.0.0.63"
PORT = 53
UPDATE_KEY = "zdt-update"
NOGRANT_KEY = "zdt-nogrant"
ZONES = ("dns.zdt.test", "alias.zdt.test", "lag.zdt.test", "acme.zdt.test")
NAMED = "/usr/sbin/named"
RNDC = "/usr/sbin/rndc"

_SOA = "@ 60 IN SOA ns1.dns.zdt.test. hostmaster.dns.zdt.test. 1 3600 600 86400 10\n"
_NS = {"dns.zdt.test": ["ns1"], "alias.zdt.test": ["ns1"], "lag.zdt.test": ["ns1", "ns2"], "acme.zdt.test": ["ns1"]}


def _secret(seed: str) -> str:
    """A fixed TSIG secret per key (the test world is rebuilt on each run; nothing to hide)."""
    return base64.b64encode((seed * 8)[:32].encode()).decode()


class Bind:
    def __init__(self, state_dir: str, web_address: str = "127.0.0.2") -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.web_address = web_address
        self.secrets = {UPDATE_KEY: _secret("update-key"), NOGRANT_KEY: _secret("no-grant-key")}
        self._procs: list[subprocess.Popen] = []
        self._added: list[str] = []

    def add_cname(self, name: str, target: str) -> None:
        """NAME CNAME TARGET, written as an operator writes the acme-dns delegation."""
        import dns.query
        import dns.tsigkeyring
        import dns.update

        zone = next(z for z in ZONES if name.endswith("." + z))
        update = dns.update.UpdateMessage(zone, keyring=dns.tsigkeyring.from_text({UPDATE_KEY: self.secrets[UPDATE_KEY]}),
                                          keyname=UPDATE_KEY)
        update.replace(name + ".", 60, "CNAME", target + ".")
        if dns.query.tcp(update, PRIMARY, timeout=10).rcode() != 0:
            raise RuntimeError(f"BIND refused the CNAME {name} -> {target}")

    @property
    def update_key(self) -> dict:
        """The certificate module's dns options for the update key (rfc2136)."""
        return {"writer": "rfc2136", "server": PRIMARY, "key_name": UPDATE_KEY,
                "key_secret": self.secrets[UPDATE_KEY], "resolvers": [RESOLVER]}

    def start(self) -> "Bind":
        for address in (PRIMARY, SECONDARY, RESOLVER):
            if procs.port_in_use(address, PORT):
                raise RuntimeError(f"{address}:{PORT} is taken; is another BIND running?")
        for address in (PRIMARY, SECONDARY, RESOLVER):
            shown = subprocess.run(["ip", "-o", "addr", "show", "dev", "lo"], check=True, capture_output=True,
                                   text=True).stdout
            if f" {address}/" not in shown:
                subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True, capture_output=True)
                self._added.append(address)
        self._write("primary", self._primary_conf())
        self._write("secondary", self._secondary_conf())
        self._write("resolver", self._resolver_conf())
        with open(os.path.join(self.state_dir, "resolver", "root.zone"), "w", encoding="utf-8") as f:
            f.write(f". 60 IN SOA ns.root. hostmaster.root. 1 3600 600 86400 10\n. 60 IN NS ns.root.\n"
                    f"ns.root. 60 IN A {RESOLVER}\n")
        for zone in ZONES:
            with open(os.path.join(self.state_dir, "primary", f"{zone}.zone"), "w", encoding="utf-8") as f:
                f.write(self._zone(zone))
        for role, address in (("primary", PRIMARY), ("secondary", SECONDARY), ("resolver", RESOLVER)):
            folder = os.path.join(self.state_dir, role)
            proc = procs.start([NAMED, "-g", "-c", os.path.join(folder, "named.conf")],
                               os.path.join(folder, "named.log"))
            self._procs.append(proc)
            procs.wait_for_port(address, PORT, proc=proc)
        self.transfer()
        return self

    def stop(self) -> None:
        for proc in self._procs:
            procs.stop(proc)
        self._procs = []
        while self._added:
            subprocess.run(["ip", "addr", "del", f"{self._added.pop()}/32", "dev", "lo"], check=False,
                           capture_output=True)

    def transfer(self) -> None:
        """The secondary fetches lag.zdt.test from the primary now."""
        subprocess.run([RNDC, "-c", os.path.join(self.state_dir, "secondary", "rndc.conf"), "retransfer",
                        "lag.zdt.test"], check=True, capture_output=True, timeout=20)

    def txt(self, name: str, server: str = PRIMARY) -> list[str]:
        """The TXT values `server` answers for `name` (dig, asked directly)."""
        out = subprocess.run(["dig", "+short", "+norecurse", "+time=2", "+tries=1", f"@{server}", "-p", str(PORT),
                              name, "TXT"], check=True, capture_output=True, text=True, timeout=20).stdout
        return sorted(line.strip().strip('"') for line in out.splitlines() if line.strip())

    def _write(self, role: str, conf: str) -> None:
        folder = os.path.join(self.state_dir, role)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "named.conf"), "w", encoding="utf-8") as f:
            f.write(conf)
        with open(os.path.join(folder, "rndc.conf"), "w", encoding="utf-8") as f:
            address = {"primary": PRIMARY, "secondary": SECONDARY, "resolver": RESOLVER}[role]
            f.write(f'key "rndc" {{ algorithm hmac-sha256; secret "{_secret("rndc-" + role)}"; }};\n'
                    f'options {{ default-key "rndc"; default-server {address}; default-port 953; }};\n')

    def _keys(self) -> str:
        return "".join(f'key "{name}" {{ algorithm hmac-sha256; secret "{secret}"; }};\n'
                       for name, secret in self.secrets.items())

    def _options(self, role: str, address: str, extra: str = "  recursion no;\n") -> str:
        folder = os.path.join(self.state_dir, role)
        return (f'options {{\n  directory "{folder}";\n  pid-file "{folder}/named.pid";\n'
                f'  session-keyfile "{folder}/session.key";\n'
                f"  listen-on port {PORT} {{ {address}; }};\n  listen-on-v6 {{ none; }};\n"
                f"{extra}  dnssec-validation no;\n  notify no;\n  allow-transfer {{ 127.0.0.0/8; }};\n"
                "  max-cache-size 8m;\n};\n"
                f'key "rndc" {{ algorithm hmac-sha256; secret "{_secret("rndc-" + role)}"; }};\n'
                f'controls {{ inet {address} port 953 allow {{ 127.0.0.1; {address}; }} keys {{ "rndc"; }}; }};\n')

    def _primary_conf(self) -> str:
        grant = f'update-policy {{ grant {UPDATE_KEY} zonesub TXT CNAME; }};'
        zones = "".join(f'zone "{zone}" {{ type primary; file "{zone}.zone"; {grant} }};\n' for zone in ZONES)
        return self._options("primary", PRIMARY) + self._keys() + zones

    def _secondary_conf(self) -> str:
        # Never refreshes by itself within a test: only transfer() brings the primary's changes.
        return (self._options("secondary", SECONDARY)
                + 'zone "lag.zdt.test" { type secondary; file "lag.zdt.test.zone"; '
                f"primaries {{ {PRIMARY}; }}; min-refresh-time 86400; max-refresh-time 86400; }};\n")

    def _resolver_conf(self) -> str:
        recursive = ("  recursion yes;\n  allow-recursion { 127.0.0.0/8; };\n  allow-query { 127.0.0.0/8; };\n"
                     "  max-cache-ttl 1;\n  max-ncache-ttl 0;\n")
        stubs = "".join(f'zone "{zone}" {{ type static-stub; server-addresses {{ {PRIMARY}; }}; }};\n' for zone in ZONES)
        return (self._options("resolver", RESOLVER, recursive) + stubs
                + 'zone "." { type primary; file "root.zone"; };\n')

    def _zone(self, zone: str) -> str:
        records = [f"$ORIGIN {zone}.\n", _SOA]
        records += [f"@ 60 IN NS {ns}.dns.zdt.test.\n" for ns in _NS[zone]]
        if zone == "dns.zdt.test":
            records += [f"ns1 60 IN A {PRIMARY}\n", f"ns2 60 IN A {SECONDARY}\n",
                        f"@ 60 IN A {self.web_address}\n", f"* 60 IN A {self.web_address}\n",
                        "_acme-challenge.cname 60 IN CNAME cname.alias.zdt.test.\n"]
        else:
            records += [f"@ 60 IN A {self.web_address}\n", f"* 60 IN A {self.web_address}\n"]
        return "".join(records)
