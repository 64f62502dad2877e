"""A pool member's side: `zerodowntime-acme receive` (the issuer's SSH push lands there) and the
certificate_install module (the play's distribution), with certificates Pebble really issued.

Each refused bundle proves the message and that nothing was installed."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import render
from ansible_collections.zerodowntime.acme.plugins.module_utils import install, lineage

from .conftest import fqdn, run_module

POOL = "pool"


@pytest.fixture(scope="module")
def issuer(testbed):
    """The issuer's lineages: the pool's certificate (issued twice: an older and a newer version),
    and another certificate, whose key and names do not belong to the pool."""
    issued = os.path.join(testbed.state, "issuer-live")
    older = run_module(testbed.args(POOL, cert_dir=issued))
    assert not older.get("failed"), older.get("msg")
    older_bundle = install.export(issued, fqdn(POOL), "web1")
    older_start = lineage.read(issued, fqdn(POOL)).cert.not_before
    # A certificate's start has whole seconds, and an issuance takes milliseconds: let the clock
    # pass the older one's second, or both start at once and neither is older.
    time.sleep(max(0.0, older_start.timestamp() + 1 - time.time()))
    newer = run_module(testbed.args(POOL, cert_dir=issued, force=True))
    assert newer["changed"], newer.get("msg")
    assert lineage.read(issued, fqdn(POOL)).cert.not_before > older_start
    run_module(testbed.args("b", cert_dir=issued))
    return {"older": older_bundle, "newer": install.export(issued, fqdn(POOL), "web1"),
            "other": install.export(issued, fqdn("b"), "web1"), "newer_serial": newer["serial"]}


@pytest.fixture
def member(testbed, tmp_path):
    """A member's config, as the role writes it for a pool certificate issued on web1."""
    config = tmp_path / "member"
    (config / "certificates").mkdir(parents=True)
    spec = dict(domains=[fqdn(POOL)], name=fqdn(POOL), webroot=testbed.webroot, cert_dir=str(config / "live"),
                directory_url=testbed.pebble.directory_url, issuer="web1")
    (config / "certificates" / f"{fqdn(POOL)}.json").write_text(json.dumps(spec))
    trace = config / "reloads"
    (config / "renew.json").write_text(json.dumps({"validate": ["true"], "reload": ["sh", "-c", f"echo reload >> {trace}"]}))
    return config


def _host_cli(config, *command: str, payload: bytes | None = None) -> subprocess.CompletedProcess:
    """The host CLI as the role installs it: the script the host_cli lookup renders."""
    script = config / "zerodowntime-acme"
    if not script.exists():
        script.write_text(render(sys.executable), encoding="utf-8")
        script.chmod(0o700)
    return subprocess.run([str(script), "--config-dir", str(config), *command], input=payload,
                          env={"PATH": os.environ["PATH"], "ZERODOWNTIME_ACME_BYTECODE": str(config / "cache")},
                          capture_output=True, check=False)


def _receive(config, payload: bytes) -> subprocess.CompletedProcess:
    return _host_cli(config, "receive", payload=payload)


def _versions(config) -> list[str]:
    folder = config / "live" / ".versions" / fqdn(POOL)
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_receive_installs_reloads_once_and_says_where_it_came_from(member, issuer):
    done = _receive(member, issuer["newer"].to_json())
    assert done.returncode == 0, done.stdout + done.stderr
    assert b"a new certificate from web1" in done.stdout and b"reloaded" in done.stdout
    assert lineage.read(str(member / "live"), fqdn(POOL)).cert.serial == issuer["newer_serial"]
    assert (member / "reloads").read_text() == "reload\n"
    again = _receive(member, issuer["newer"].to_json())
    assert again.returncode == 0 and b"is in place already" in again.stdout
    assert (member / "reloads").read_text() == "reload\n"  # nothing new: no reload
    status = _host_cli(member, "status")
    assert b"received from web1" in status.stdout, status.stdout + status.stderr


def _replaced(bundle: install.Bundle, **changes) -> bytes:
    return dataclasses.replace(bundle, **changes).to_json()


@pytest.mark.parametrize("make, words", [
    (lambda b: _replaced(b["other"], name=fqdn(POOL)), f"not for the names ordered ({fqdn(POOL)})"),
    (lambda b: _replaced(b["newer"], privkey=b["other"].privkey), "for another public key than the private key"),
    (lambda b: _replaced(b["newer"], issuer="web9"), "is issued on web1, not on web9"),
    (lambda b: b"\x00\xffgarbage", "the bundle is not JSON"),
    (lambda b: json.dumps({"format": 1, "name": fqdn(POOL)}).encode(), "the bundle's privkey is missing"),
    (lambda b: _replaced(b["newer"], fullchain="-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n"),
     "broken PEM body"),
], ids=["other-names", "other-key", "other-issuer", "garbage", "incomplete", "broken-pem"])
def test_receive_refuses_a_bad_bundle_and_installs_nothing(member, issuer, make, words):
    done = _receive(member, make(issuer))
    assert done.returncode == 1 and words in done.stdout.decode(), done.stdout + done.stderr
    assert b"Traceback" not in done.stderr
    assert _versions(member) == [] and not (member / "reloads").exists()


def test_receive_refuses_an_older_version_and_keeps_the_newer(member, issuer):
    assert _receive(member, issuer["newer"].to_json()).returncode == 0
    before = _versions(member)
    done = _receive(member, issuer["older"].to_json())
    assert done.returncode == 1 and b"is older than the one in place" in done.stdout, done.stdout
    assert _versions(member) == before
    assert lineage.read(str(member / "live"), fqdn(POOL)).cert.serial == issuer["newer_serial"]


def test_a_member_never_orders_its_pool_certificate(member, testbed):
    requests_before = testbed.pebble.request_count()
    done = _host_cli(member, "renew", "--force", "--verbose")
    assert done.returncode == 0, done.stdout + done.stderr
    assert b"issued on web1, which sends it to this host" in done.stdout
    assert testbed.pebble.request_count() == requests_before


def test_the_install_module_installs_checks_and_keeps_the_key_out_of_the_result(testbed, issuer, tmp_path):
    args = dict(name=fqdn(POOL), cert_dir=str(tmp_path / "live"), domains=[fqdn(POOL)], issuer="web1",
                privkey=issuer["newer"].privkey, fullchain=issuer["newer"].fullchain,
                directory_url=testbed.pebble.directory_url)
    check = run_module(args, module="zerodowntime.acme.certificate_install", check=True)
    assert check["changed"] and not (tmp_path / "live" / fqdn(POOL)).exists()
    raw: list = []
    done = run_module(args, module="zerodowntime.acme.certificate_install", raw=raw)
    assert done["changed"] and done["serial"] == issuer["newer_serial"], done
    assert "PRIVATE KEY" not in raw[0] and issuer["newer"].privkey.splitlines()[1] not in raw[0]
    assert run_module(args, module="zerodowntime.acme.certificate_install")["changed"] is False
    info = run_module(dict(name=fqdn(POOL), cert_dir=str(tmp_path / "live")), module="zerodowntime.acme.certificate_info")
    assert info["received_from"] == "web1" and info["due"] is False
    wrong = run_module(dict(args, domains=[fqdn("b")]), module="zerodowntime.acme.certificate_install")
    assert wrong["failed"] and "not for the names ordered" in wrong["msg"]


def test_a_member_that_becomes_the_issuer_adopts_the_lineage_and_renews_it_with_replaces(testbed, issuer, tmp_path):
    """Moving the issuer: the member holds every version it received; with the fleet's one account,
    the CA accepts its renewal as the replacement of the issuer's certificate."""
    cert_dir = str(tmp_path / "live")
    installed = run_module(dict(name=fqdn(POOL), cert_dir=cert_dir, domains=[fqdn(POOL)], issuer="web1",
                                privkey=issuer["newer"].privkey, fullchain=issuer["newer"].fullchain,
                                directory_url=testbed.pebble.directory_url, ari=issuer["newer"].ari),
                           module="zerodowntime.acme.certificate_install")
    assert installed["changed"], installed.get("msg")
    kept = run_module(testbed.args(POOL, cert_dir=cert_dir))  # the new issuer's play: nothing due yet
    assert not kept["changed"] and kept["serial"] == issuer["newer_serial"], kept
    renewed = run_module(testbed.args(POOL, cert_dir=cert_dir, force=True))  # due (forced): it renews
    assert renewed["changed"] and renewed["serial"] != issuer["newer_serial"], renewed.get("msg")
    assert renewed.get("replaces"), renewed
