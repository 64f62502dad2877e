"""dns-01 against a real BIND 9 (the zones' authoritative server, TSIG-signed dynamic updates) and
a Pebble that asks that BIND, so the CA validates every TXT record for real: wildcards with their
apex, CNAME delegation to another zone, a secondary that lags behind its primary, a server that
refuses the update, a hook script that writes through nsupdate, and the host CLI's renew."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import threading
import time

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import cli
from tools.testbed.acmedns import AcmeDns
from tools.testbed.bind import NOGRANT_KEY, PRIMARY, RESOLVER, SECONDARY, Bind
from tools.testbed.pebble import Pebble

from .conftest import ROOT, run_module

# The engine's dns-01 path does not depend on the controller: the matrix does not repeat it.
pytestmark = pytest.mark.controller_independent

STATE = os.path.join(ROOT, "build", "integration-dns")
ACME_PORT, MANAGEMENT_PORT = 14400, 15400


class World:
    def __init__(self, bind: Bind, pebble: Pebble) -> None:
        self.bind, self.pebble = bind, pebble

    def args(self, domains: list[str], dns: dict | None = None, **extra) -> dict:
        base = dict(domains=domains, challenge="dns-01", dns=dns or self.bind.update_key,
                    cert_dir=os.path.join(STATE, "live"), directory_url=self.pebble.directory_url,
                    ca_bundle=self.pebble.ca_bundle, account_key=os.path.join(STATE, "account.pem"),
                    terms_agreed=True)
        base.update(extra)
        return base

    def orders(self) -> int:
        return sum(1 for event, _order in self.pebble.order_events() if event == "placed")


@pytest.fixture(scope="module")
def world():
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    bind = Bind(os.path.join(STATE, "bind")).start()
    pebble = Pebble(os.path.join(STATE, "pebble"), acme_port=ACME_PORT, management_port=MANAGEMENT_PORT,
                    dns_server=f"{RESOLVER}:53")
    try:
        pebble.start()
        yield World(bind, pebble)
    finally:
        pebble.stop()
        bind.stop()


def _sans(result: dict) -> list[str]:
    from cryptography import x509

    with open(result["paths"]["cert"], "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return sorted(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName))


def test_a_wildcard_and_its_apex_validate_in_one_order_and_leave_no_record(world):
    result = run_module(world.args(["*.dns.zdt.test", "dns.zdt.test"]))
    assert result["changed"] and not result.get("failed"), result
    assert result["name"] == "dns.zdt.test"  # the wildcard's lineage is named after the name below it
    assert _sans(result) == ["*.dns.zdt.test", "dns.zdt.test"]
    # Both values were added beside each other at one name, and only ours deleted: nothing is left.
    assert world.bind.txt("_acme-challenge.dns.zdt.test") == []
    again = run_module(world.args(["*.dns.zdt.test", "dns.zdt.test"]))
    assert not again["changed"] and again["serial"] == result["serial"]


def test_a_record_delegated_by_cname_is_written_in_the_zone_it_points_to(world):
    result = run_module(world.args(["cname.dns.zdt.test"], force=True))
    assert result["changed"] and not result.get("failed"), result
    with open(os.path.join(STATE, "bind", "primary", "named.log"), encoding="utf-8") as log:
        updates = [line for line in log if "updating zone" in line and "adding an RR" in line]
    assert any("'alias.zdt.test/IN'" in line and "cname.alias.zdt.test" in line for line in updates), updates
    assert not any("_acme-challenge.cname.dns.zdt.test" in line for line in updates)
    assert world.bind.txt("cname.alias.zdt.test") == []


def test_a_lagging_secondary_is_named_when_the_wait_runs_out_and_nothing_is_left(world):
    before = world.orders()
    result = run_module(world.args(["slow.lag.zdt.test"], dns=dict(world.bind.update_key, propagation_timeout=4)))
    assert result.get("failed"), result
    assert "did not reach every nameserver of lag.zdt.test within 4 s" in result["msg"]
    assert f"ns2.dns.zdt.test ({SECONDARY}) does not answer it yet" in result["msg"]
    assert f"ns1.dns.zdt.test ({PRIMARY})" not in result["msg"]
    assert world.orders() == before + 1  # the CA was never asked to validate: no failed validation counted
    assert world.bind.txt("_acme-challenge.slow.lag.zdt.test") == []


def test_a_lagging_secondary_is_waited_for(world):
    name = "_acme-challenge.late.lag.zdt.test"

    def transfer_once_written() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(world.bind.txt(name)) == 0:
            time.sleep(0.2)
        time.sleep(3)  # the responder asks the secondary in vain meanwhile
        world.bind.transfer()

    # The probe before the order is written and deleted at once; the real value stays until valid.
    helper = threading.Thread(target=transfer_once_written)
    started = time.monotonic()
    helper.start()
    result = run_module(world.args(["late.lag.zdt.test"], dns=dict(world.bind.update_key, propagation_timeout=60)))
    helper.join()
    assert result["changed"] and not result.get("failed"), result
    assert time.monotonic() - started > 3
    # Deleted on the primary; the secondary sees the deletion with its next transfer, as it saw the value.
    assert world.bind.txt(name) == []
    world.bind.transfer()
    deadline = time.monotonic() + 10
    while world.bind.txt(name, SECONDARY) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert world.bind.txt(name, SECONDARY) == []


@pytest.mark.parametrize("key, secret, words", [
    (NOGRANT_KEY, None, "REFUSED; the server refused the update"),
    ("zdt-unknown", None, "rejected the TSIG key (PeerBadKey)"),
    ("zdt-update", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "rejected the TSIG key (PeerBadSignature)"),
])
def test_a_refused_update_fails_before_any_order(world, key, secret, words):
    before = world.orders()
    dns = dict(world.bind.update_key, key_name=key, key_secret=secret or world.bind.secrets.get(key, "c2VjcmV0"))
    result = run_module(world.args(["refused.dns.zdt.test"], dns=dns))
    assert result.get("failed") and words in result["msg"], result
    assert world.orders() == before
    assert secret not in result["msg"] if secret else True


def test_bad_dns_options_fail_before_any_connection(world):
    result = run_module(world.args(["x.dns.zdt.test"], dns=dict(world.bind.update_key, key_secret="not base64!")))
    assert result.get("failed") and "dns.key_secret of key zdt-update is not base64" in result["msg"]
    assert "not base64!" not in json.dumps(result)
    result = run_module(world.args(["x.dns.zdt.test"], dns=dict(world.bind.update_key, key_algorithm="hmac-md5")))
    assert result.get("failed") and "hmac-md5" in result["msg"]
    result = run_module(world.args(["*.dns.zdt.test"], challenge="http-01", webroot=STATE, dns=None))
    assert result.get("failed") and "validates over dns-01 only" in result["msg"]


HOOK = """#!/bin/sh
# present|cleanup FQDN VALUE, through nsupdate with the zone's update key
echo "$1 $2 $3" >> {log}
action=add; [ "$1" = cleanup ] && action=delete
printf 'server {server}\\nupdate %s %s 60 TXT "%s"\\nsend\\n' "$action" "$2" "$3" | nsupdate -y hmac-sha256:{key}:{secret}
"""


def _hook(world, folder: str) -> tuple[str, str]:
    os.makedirs(folder, exist_ok=True)
    log = os.path.join(folder, "calls")
    path = os.path.join(folder, "nsupdate-hook")
    with open(path, "w", encoding="utf-8") as f:
        f.write(HOOK.format(log=log, server=PRIMARY, key="zdt-update", secret=world.bind.secrets["zdt-update"]))
    os.chmod(path, stat.S_IRWXU)
    return path, log


def test_a_hook_script_writes_and_deletes_its_records(world):
    hook, log = _hook(world, os.path.join(STATE, "hook"))
    dns = {"writer": "hook", "hook": [hook], "resolvers": [RESOLVER]}
    result = run_module(world.args(["*.hook.dns.zdt.test", "hook.dns.zdt.test"], dns=dns))
    assert result["changed"] and not result.get("failed"), result
    with open(log, encoding="utf-8") as f:
        calls = [line.split() for line in f]
    # The probe, then both values at one name (FQDN with its final dot), each deleted again.
    assert [c[0] for c in calls[:2]] == ["present", "cleanup"] and calls[0][2] == calls[1][2]
    presented = sorted(c[2] for c in calls[2:] if c[0] == "present")
    assert len(presented) == 2 and sorted(c[2] for c in calls[2:] if c[0] == "cleanup") == presented
    assert {c[1] for c in calls} == {"_acme-challenge.hook.dns.zdt.test."}
    assert world.bind.txt("_acme-challenge.hook.dns.zdt.test") == []


def test_a_failing_hook_fails_before_any_order_with_its_words(world):
    folder = os.path.join(STATE, "hookfail")
    os.makedirs(folder, exist_ok=True)
    hook = os.path.join(folder, "broken")
    with open(hook, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\necho 'provider says: zone not found' >&2\nexit 3\n")
    os.chmod(hook, stat.S_IRWXU)
    before = world.orders()
    result = run_module(world.args(["hookfail.dns.zdt.test"], dns={"writer": "hook", "hook": [hook],
                                                                   "resolvers": [RESOLVER]}))
    assert result.get("failed") and "failed (exit 3): provider says: zone not found" in result["msg"], result
    assert world.orders() == before


def test_the_host_cli_renews_a_dns01_certificate_from_cron(world, capsys):
    config = os.path.join(STATE, "cli")
    os.makedirs(os.path.join(config, "certificates"))
    spec = dict(world.args(["cron.dns.zdt.test", "*.cron.dns.zdt.test"]), name="cron.dns.zdt.test")
    with open(os.path.join(config, "certificates", "cron.dns.zdt.test.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f)
    with open(os.path.join(config, "renew.json"), "w", encoding="utf-8") as f:
        json.dump({"validate": ["true"], "reload": ["true"]}, f)
    assert cli.main(["--config-dir", config, "renew"]) == 0
    assert "cron.dns.zdt.test: renewed (no certificate exists yet)" in capsys.readouterr().out
    assert os.path.exists(os.path.join(STATE, "live", "cron.dns.zdt.test", "fullchain.pem"))
    assert world.bind.txt("_acme-challenge.cron.dns.zdt.test") == []
    before = world.orders()
    assert cli.main(["--config-dir", config, "renew"]) == 0
    assert "renewed" not in capsys.readouterr().out and world.orders() == before  # nothing due: no order


@pytest.fixture(scope="module")
def acme_dns(world):
    server = AcmeDns(os.path.join(STATE, "acme-dns"), world.bind.secrets["zdt-update"]).start()
    try:
        yield server
    finally:
        server.stop()


def test_acme_dns_takes_the_apex_and_wildcard_values_of_one_account(world, acme_dns, monkeypatch):
    account = acme_dns.register()
    world.bind.add_cname("_acme-challenge.acmedns.dns.zdt.test", account["fulldomain"])
    # This acme-dns serves a certificate of the test CA: the module trusts it as requests does.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", acme_dns.ca_pem)
    credentials = {k: account[k] for k in ("username", "password", "subdomain")}
    dns = {"writer": "acme-dns", "acme_dns_url": acme_dns.url, "resolvers": [RESOLVER],
           "acme_dns_accounts": {"acmedns.dns.zdt.test": credentials}}
    raw: list = []
    result = run_module(world.args(["*.acmedns.dns.zdt.test", "acmedns.dns.zdt.test"], dns=dns), raw=raw)
    assert result["changed"] and not result.get("failed"), result
    # The probe, then one value per name, each a POST with this account's subdomain.
    assert len(acme_dns.updates) == 3 and {u["subdomain"] for u in acme_dns.updates} == {account["subdomain"]}
    assert account["password"] not in raw[0]
    wrong = dict(dns, acme_dns_accounts={"acmedns.dns.zdt.test": dict(credentials, password="not-the-password-0")})
    before = world.orders()
    result = run_module(world.args(["*.acmedns.dns.zdt.test", "acmedns.dns.zdt.test"], dns=wrong, force=True))
    assert result.get("failed") and "HTTP 401 (wrong username or password for this name?)" in result["msg"]
    assert world.orders() == before


DEBIAN12 = """
import json, sys
import dns.version
from ansible_collections.zerodowntime.acme.plugins.module_utils import dns01, dnsconfig

class Challenge:
    identifier, token, key_authorization = sys.argv[2], "token", "token.thumbprint"

options = dnsconfig.parse(json.loads(sys.argv[1]), [sys.argv[2]])
with dns01.DnsResponder(options, 5) as responder:
    responder.prepare([sys.argv[2]])
    responder.present(Challenge)
    print(json.dumps({"version": dns.version.version, "check": responder.self_check(Challenge),
                      "advice": responder.advice(Challenge)}))
"""


def test_the_responder_runs_on_debian_12s_dnspython(world):
    """A managed Debian 12 host has python3-dnspython 2.3 (make setup unpacks it into build/debian-libs)."""
    libs = os.path.join(ROOT, "build", "debian-libs", "root", "usr", "lib", "python3", "dist-packages")
    paths = [libs, os.path.join(ROOT, "build", "collections")]
    script = f"import sys\nsys.path[:0] = {paths!r}\n{DEBIAN12}"
    options = json.dumps(dict(world.bind.update_key, propagation_timeout=10))
    done = subprocess.run(["/usr/bin/python3", "-I", "-c", script, options, "deb12.cname.dns.zdt.test"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["version"] == "2.3.0" and said["check"] is None and "expects" in said["advice"]
    assert world.bind.txt("_acme-challenge.deb12.cname.dns.zdt.test") == []
