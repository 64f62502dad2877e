"""A pool member's side: `zerodowntime-acme receive` (the issuer's SSH push lands there) and the
certificate_install module (the play's distribution), with certificates Pebble really issued.

Each refused bundle proves the message and that nothing was installed."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import render
from ansible_collections.zerodowntime.acme.plugins.module_utils import install, lineage

from .conftest import fqdn, issue_for_ari, run_module

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
    # Findable by Pebble under its ARI ID: the member that becomes the issuer renews it with `replaces`.
    newer = issue_for_ari(testbed, POOL, cert_dir=issued, force=True)
    assert newer["changed"], newer.get("msg")
    assert lineage.read(issued, fqdn(POOL)).cert.not_before > older_start
    run_module(testbed.args("b", cert_dir=issued))
    roots = lineage.read(issued, fqdn(POOL)).meta["roots"]
    assert roots == [testbed.pebble.root_pem(0).decode()]  # recorded when it ordered, found in ca_bundle
    return {"older": older_bundle, "newer": install.export(issued, fqdn(POOL), "web1"),
            "other": install.export(issued, fqdn("b"), "web1"), "newer_serial": newer["serial"], "roots": roots}


@pytest.fixture
def fresh(testbed, tmp_path):
    """A member's config, as the role writes it for a pool certificate issued on web1, before any play
    installed a certificate there."""
    config = tmp_path / "member"
    (config / "certificates").mkdir(parents=True)
    spec = dict(domains=[fqdn(POOL)], name=fqdn(POOL), webroot=testbed.webroot, cert_dir=str(config / "live"),
                directory_url=testbed.pebble.directory_url, issuer="web1")
    (config / "certificates" / f"{fqdn(POOL)}.json").write_text(json.dumps(spec))
    trace = config / "reloads"
    (config / "renew.json").write_text(json.dumps({"validate": ["true"], "reload": ["sh", "-c", f"echo reload >> {trace}"]}))
    return config


@pytest.fixture
def member(fresh, issuer):
    """The member after a play: the play's certificate_install put the older version in place with the
    roots the issuer reported (here in process; the next tests run the module through ansible)."""
    install.install(str(fresh / "live"), fqdn(POOL), [fqdn(POOL)], issuer["older"], trusted_roots=issuer["roots"])
    assert _versions(fresh) == PLAYED
    return fresh


PLAYED = ["1"]  # the play's version, which a refused bundle leaves alone


def _host_cli(config, *command: str, payload: bytes | None = None) -> subprocess.CompletedProcess:
    """The host CLI as the role installs it: the script the host_cli lookup renders."""
    script = config / "zerodowntime-acme"
    if not script.exists():
        script.write_text(render(sys.executable), encoding="utf-8")
        script.chmod(0o700)
    return subprocess.run([str(script), "--config-dir", str(config), *command], input=payload,
                          env={"PATH": os.environ["PATH"], "ZERODOWNTIME_ACME_BYTECODE": str(config / "cache")},
                          capture_output=True, check=False)


def _receive(config, payload: bytes, issuer: str = "web1") -> subprocess.CompletedProcess:
    """As the forced command of `issuer`'s key runs it."""
    return _host_cli(config, "receive", "--issuer", issuer, payload=payload)


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
    (lambda b: _replaced(b["newer"], issuer="web9"), "says it comes from 'web9', but it was sent with the key of 'web1'"),
    (lambda b: b"\x00\xffgarbage", "the bundle is not JSON"),
    (lambda b: json.dumps({"format": 1, "name": fqdn(POOL)}).encode(), "the bundle's privkey is missing"),
    (lambda b: _replaced(b["newer"], fullchain="-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n"),
     "broken PEM body"),
], ids=["other-names", "other-key", "other-issuer", "garbage", "incomplete", "broken-pem"])
def test_receive_refuses_a_bad_bundle_and_installs_nothing(member, issuer, make, words):
    done = _receive(member, make(issuer))
    assert done.returncode == 1 and words in done.stdout.decode(), done.stdout + done.stderr
    assert b"Traceback" not in done.stderr
    assert _versions(member) == PLAYED and not (member / "reloads").exists()


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
    assert renewed.get("replaces"), (renewed.get("warnings"), renewed.get("reason"))


def _made_up(testbed, *, not_before: datetime.datetime | None = None, intermediate: bool = True) -> tuple[str, str]:
    """(key PEM, full chain PEM) for the pool's name from a CA made up on the spot, which even takes
    the name of Pebble's real root: only the root's key tells them apart."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    start = not_before or datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    real_root = x509.load_pem_x509_certificate(testbed.pebble.root_pem(0))
    root_key, inter_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _key in range(3))
    inter_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Pebble Intermediate CA made up")])

    def cert(subject, issuer, key, signer, **extensions):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start)
                   .not_valid_after(start + datetime.timedelta(days=90)))
        for extension in extensions.values():
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(signer, hashes.SHA256())

    leaf_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, fqdn(POOL))])
    names = x509.SubjectAlternativeName([x509.DNSName(fqdn(POOL))])
    if intermediate:
        chain = [cert(leaf_name, inter_name, leaf_key, inter_key, san=names),
                 cert(inter_name, real_root.subject, inter_key, root_key)]
    else:
        chain = [cert(leaf_name, real_root.subject, leaf_key, root_key, san=names)]
    key_pem = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    return key_pem.decode(), "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)


def _forged(issuer_bundles, testbed, **made_up) -> bytes:
    key, chain = _made_up(testbed, **made_up)
    return _replaced(issuer_bundles["newer"], privkey=key, fullchain=chain)


def _raw(bundle: install.Bundle, **fields) -> bytes:
    """The bundle's JSON with fields its dataclass would not take."""
    return json.dumps(dict(dataclasses.asdict(bundle), format=install.FORMAT, **fields)).encode()


FAR_FUTURE = datetime.datetime(2086, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("make, words", [
    (lambda b, t: _forged(b, t, not_before=FAR_FUTURE), "is not valid before 2086-01-01 00:00 UTC"),
    (lambda b, t: _forged(b, t, intermediate=False), "comes without an intermediate certificate"),
    (_forged, "not to a root this pool trusts"),
    (lambda b, t: _raw(b["newer"], issued_at="0001-01-01T00:00:00+14:00"), "the bundle's issued_at"),
    (lambda b, t: _raw(b["newer"], issued_at="2086-01-01T00:00:00Z"), "it is in the future"),
    (lambda b, t: _raw(b["newer"], directory_url="https://127.0.0.1:14000/dir\nforged: line"),
     "the bundle's directory_url"),
    (lambda b, t: _raw(b["newer"], name="pool\ud800"), "the bundle's name 'pool\\ud800'"),
    (lambda b, t: _raw(b["newer"], issuer="web1\n2026-12-06 00:00:00 zerodowntime-acme: forged"),
     "the bundle's issuer 'web1\\n2026-12-06"),
], ids=["from-2086", "lone-leaf", "foreign-root", "year-1", "issued-in-future", "url-newline", "surrogate",
        "issuer-newline"])
def test_receive_refuses_what_only_a_key_holder_could_send(member, issuer, testbed, make, words):
    """Issue 19: each of these was installed, or crashed the CLI, before."""
    done = _receive(member, make(issuer, testbed))
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 1 and words in out, out + done.stderr.decode()
    assert b"Traceback" not in done.stderr and len(out.splitlines()) == 1, out
    assert _versions(member) == PLAYED and not (member / "reloads").exists()


def test_receive_names_its_issuer_and_refuses_a_certificate_issued_elsewhere(member, issuer):
    done = _receive(member, _replaced(issuer["newer"], issuer="web2"), issuer="web2")
    assert done.returncode == 1 and f"'{fqdn(POOL)}' is issued on web1, not on 'web2'" in done.stdout.decode()
    without = _host_cli(member, "receive", payload=issuer["newer"].to_json())
    assert without.returncode == 2 and b"--issuer" in without.stderr  # the forced command always names it
    assert _versions(member) == PLAYED


def test_a_member_trusts_only_the_roots_a_play_gave_it_and_keeps_them_for_the_next_push(testbed, issuer, fresh):
    """The roots come from the play's certificate_install (the issuer's own report), never from a bundle."""
    refused = _receive(fresh, issuer["newer"].to_json())
    assert refused.returncode == 1 and b"knows no root" in refused.stdout, refused.stdout  # no play yet
    installed = run_module(dict(name=fqdn(POOL), cert_dir=str(fresh / "live"), domains=[fqdn(POOL)], issuer="web1",
                                privkey=issuer["older"].privkey, fullchain=issuer["older"].fullchain,
                                pool_roots=issuer["roots"]), module="zerodowntime.acme.certificate_install")
    assert installed["changed"], installed.get("msg")
    done = _receive(fresh, issuer["newer"].to_json())
    assert done.returncode == 0 and b"a new certificate from web1" in done.stdout, done.stdout
    assert lineage.read(str(fresh / "live"), fqdn(POOL)).meta["pool_roots"] == issuer["roots"]
    forged = _receive(fresh, _forged(issuer, testbed))
    assert forged.returncode == 1 and b"not to a root this pool trusts" in forged.stdout


def test_a_play_gives_a_member_that_has_the_certificate_its_roots(issuer, tmp_path):
    """After an upgrade, the member holds the issuer's certificate but no roots: the play's
    certificate_install records them without a new version."""
    cert_dir = str(tmp_path / "live")
    install.install(cert_dir, fqdn(POOL), [fqdn(POOL)], issuer["newer"])  # as an older release left it
    args = dict(name=fqdn(POOL), cert_dir=cert_dir, domains=[fqdn(POOL)], issuer="web1",
                privkey=issuer["newer"].privkey, fullchain=issuer["newer"].fullchain, pool_roots=issuer["roots"])
    done = run_module(args, module="zerodowntime.acme.certificate_install")
    assert done["changed"] and "the roots it trusts" in done["reason"], done
    assert lineage.current_version(cert_dir, fqdn(POOL)) == "1"
    assert lineage.read(cert_dir, fqdn(POOL)).meta["pool_roots"] == issuer["roots"]
    assert run_module(args, module="zerodowntime.acme.certificate_install")["changed"] is False


def test_the_issuer_reports_the_roots_it_recorded_or_finds_them_for_an_older_certificate(testbed, issuer, tmp_path):
    info = run_module(dict(name=fqdn(POOL), cert_dir=os.path.join(testbed.state, "issuer-live")),
                      module="zerodowntime.acme.certificate_info")
    assert info["chain_roots"] == issuer["roots"], info
    # A certificate ordered before the roots were recorded: found now, in its chain's issuer's ca_bundle.
    cert_dir = str(tmp_path / "live")
    install.install(cert_dir, fqdn(POOL), [fqdn(POOL)], issuer["newer"])
    assert "roots" not in lineage.read(cert_dir, fqdn(POOL)).meta
    found = run_module(dict(name=fqdn(POOL), cert_dir=cert_dir, ca_bundle=testbed.pebble.ca_bundle),
                       module="zerodowntime.acme.certificate_info")
    assert found["chain_roots"] == issuer["roots"], found
    alone = run_module(dict(name=fqdn(POOL), cert_dir=cert_dir), module="zerodowntime.acme.certificate_info")
    assert alone["chain_roots"] == []  # Pebble's root is in no system trust store
