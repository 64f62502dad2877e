"""A certificate from a pool's issuer, installed on a member: tests plugins/module_utils/install.py."""

from __future__ import annotations

import dataclasses
import datetime
import grp
import json
import os
import re
import stat

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import install, keyaccess, lineage, reloads
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AcmeError, ConfigError
from tests.unit.conftest import NOW, make_cert


def _bundle(domains=("a.example",), not_before=NOW, name="a.example") -> install.Bundle:
    key, chain = make_cert(list(domains), not_before=not_before)
    return install.Bundle(name=name, privkey=key.decode(), fullchain=chain.decode(), issuer="web1",
                          directory_url="https://acme.test/dir", issued_at="2026-11-29T12:00:00Z")


def test_a_bundle_round_trips_through_json():
    bundle = _bundle()
    assert install.Bundle.from_json(bundle.to_json()) == bundle


@pytest.mark.parametrize("raw, words", [
    (b"[1]", "not a zerodowntime-acme bundle"),
    (json.dumps({"format": 2}).encode(), "not a zerodowntime-acme bundle"),
    (json.dumps({"format": 1, "name": "a", "privkey": 3}).encode(), "privkey is missing or of the wrong type"),
    (b"{" * 100000, "not JSON"),
    (b" " * (install.MAX_BUNDLE + 1), "larger than"),
])
def test_anything_but_a_bundle_is_refused(raw, words):
    with pytest.raises(ConfigError, match=words):
        install.Bundle.from_json(raw)


def test_install_then_the_same_again_then_an_older_one(tmp_path):
    newer, older = _bundle(), _bundle(not_before=NOW - datetime.timedelta(days=1))
    first = install.install(str(tmp_path), "a.example", ["a.example"], newer, now=NOW)
    assert first.changed and first.reason == "a new certificate from web1"
    assert reloads.pending(str(tmp_path))["names"] == ["a.example"]
    current = lineage.read(str(tmp_path), "a.example")
    assert current.meta["received_from"] == "web1" and current.meta["ari"] is False  # the bundle said none
    assert not install.install(str(tmp_path), "a.example", ["a.example"], newer, now=NOW).changed
    with pytest.raises(ConfigError, match="is older than the one in place"):
        install.install(str(tmp_path), "a.example", ["a.example"], older, now=NOW)


@pytest.mark.parametrize("bundle, words", [
    (lambda: _bundle(domains=("b.example",)), r"not for the names ordered \(a.example\)"),
    (lambda: _bundle(name="other"), "is for 'other', not 'a.example'"),
    (lambda: dataclasses.replace(_bundle(), privkey=_bundle().privkey), "for another public key"),
    (lambda: dataclasses.replace(_bundle(), privkey="not a key"), "is not a PEM private key"),
])
def test_a_bundle_that_does_not_fit_installs_nothing(tmp_path, bundle, words):
    with pytest.raises(AcmeError, match=words):
        install.install(str(tmp_path), "a.example", ["a.example"], bundle(), now=NOW)
    assert lineage.read(str(tmp_path), "a.example") is None


def test_a_member_gets_the_key_access_it_asks_for_and_keeps_it(tmp_path):
    access = keyaccess.Access(-1, grp.getgrnam("nogroup").gr_gid, 0o640)
    bundle = _bundle()
    first = install.install(str(tmp_path), "a.example", ["a.example"], bundle, now=NOW, access=access, combined=True)
    assert first.changed and first.renewed
    for filename in ("privkey.pem", "combined.pem"):
        info = os.stat(tmp_path / "a.example" / filename)
        assert (info.st_gid, stat.S_IMODE(info.st_mode)) == (access.gid, 0o640)
    os.chmod(tmp_path / "a.example" / "privkey.pem", 0o600)
    again = install.install(str(tmp_path), "a.example", ["a.example"], bundle, now=NOW, access=access, combined=True)
    assert again.changed and not again.renewed and again.repaired == ["version 1 privkey.pem: mode 0600 -> 0640"]
    assert "files put right" in again.reason
    assert not install.install(str(tmp_path), "a.example", ["a.example"], bundle, now=NOW, access=access,
                               combined=True).changed


def test_check_mode_writes_nothing(tmp_path):
    outcome = install.install(str(tmp_path / "live"), "a.example", ["a.example"], _bundle(), check_mode=True, now=NOW)
    assert outcome.changed and not (tmp_path / "live").exists()


def test_an_issuers_placeholder_is_never_installed(tmp_path):
    key, pem = make_cert(["a.example"], self_signed=True)
    bundle = install.Bundle(name="a.example", privkey=key.decode(), fullchain=pem.decode(), issuer="web1")
    with pytest.raises(ConfigError, match="sent a self-signed certificate"):
        install.install(str(tmp_path), "a.example", ["a.example"], bundle, now=NOW)


def _chain_top(bundle: install.Bundle) -> str:
    """The last certificate of the bundle's chain: make_cert's self-signed intermediate, the root
    of its throw-away CA."""
    return "-----BEGIN CERTIFICATE-----" + bundle.fullchain.split("-----BEGIN CERTIFICATE-----")[-1]


def test_a_certificate_from_the_future_is_refused(tmp_path):
    """It would be kept over every later certificate as 'newer', and look years from due (issue 19)."""
    future = _bundle(not_before=datetime.datetime(2086, 1, 1, tzinfo=datetime.timezone.utc))
    with pytest.raises(AcmeError, match="is not valid before 2086-01-01 00:00 UTC, which is still ahead"):
        install.install(str(tmp_path), "a.example", ["a.example"], future, now=NOW)
    skewed = _bundle(not_before=NOW + datetime.timedelta(minutes=4))  # a clock a little behind: fine
    assert install.install(str(tmp_path), "a.example", ["a.example"], skewed, now=NOW).changed


def test_a_leaf_without_its_chain_is_refused(tmp_path):
    bundle = _bundle()
    lone = dataclasses.replace(bundle, fullchain=bundle.fullchain.split("-----END CERTIFICATE-----")[0]
                               + "-----END CERTIFICATE-----\n")
    with pytest.raises(AcmeError, match="comes without an intermediate certificate"):
        install.install(str(tmp_path), "a.example", ["a.example"], lone, now=NOW)
    assert lineage.read(str(tmp_path), "a.example") is None


def test_the_chain_must_lead_to_a_root_the_pool_trusts_and_those_roots_are_kept(tmp_path):
    ours, foreign = _bundle(), _bundle()
    with pytest.raises(AcmeError, match="not to a root this pool trusts"):
        install.install(str(tmp_path), "a.example", ["a.example"], foreign, now=NOW, trusted_roots=[_chain_top(ours)])
    with pytest.raises(AcmeError, match="knows no root to check"):
        install.install(str(tmp_path), "a.example", ["a.example"], ours, now=NOW, trusted_roots=[])
    assert lineage.read(str(tmp_path), "a.example") is None
    done = install.install(str(tmp_path), "a.example", ["a.example"], ours, now=NOW, trusted_roots=[_chain_top(ours)])
    assert done.changed
    assert lineage.read(str(tmp_path), "a.example").meta["pool_roots"] == [_chain_top(ours)]


@pytest.mark.parametrize("field, value, words", [
    ("issued_at", "0001-01-01T00:00:00+14:00", "issued_at '0001-01-01T00:00:00+14:00' cannot be used"),
    ("issued_at", "9999-12-31T23:59:59-14:00", "cannot be used"),
    ("issued_at", "2086-01-01T00:00:00Z", "it is in the future"),
    ("directory_url", "https://ca.test/dir\nforged", "directory_url 'https://ca.test/dir\\nforged' cannot be used"),
    ("directory_url", "http://ca.test/dir", "is not https"),
    ("name", "a.example\ud800", "name 'a.example\\ud800' cannot be used"),
    ("name", "../etc", "cannot be a folder name"),
    ("issuer", "web1\nforged line", "issuer 'web1\\nforged line' cannot be used"),
    ("issuer", "-oProxyCommand=x", "is not an inventory host name"),
])
def test_every_field_of_a_bundle_is_checked_before_use(field, value, words):
    raw = json.dumps(dict(dataclasses.asdict(_bundle()), format=install.FORMAT, **{field: value})).encode()
    with pytest.raises(ConfigError, match=re.escape(words)) as caught:
        install.Bundle.from_json(raw, now=NOW)
    assert "\n" not in str(caught.value) and "\ud800" not in str(caught.value)


def test_receive_trusts_the_roots_this_member_recorded_never_the_bundles_word(tmp_path):
    from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec, validated

    spec = validated(CertificateSpec(domains=["a.example"], name="a.example", cert_dir=str(tmp_path),
                                     issuer="web1", webroot=str(tmp_path)))
    ours, foreign = _bundle(), _bundle()
    with pytest.raises(AcmeError, match="knows no root to check"):  # nothing recorded yet
        install.receive(spec, ours, NOW)
    install.install(str(tmp_path), "a.example", ["a.example"], ours, now=NOW, trusted_roots=[_chain_top(ours)])
    with pytest.raises(AcmeError, match="not to a root this pool trusts"):
        install.receive(spec, dataclasses.replace(foreign, issued_at=ours.issued_at), NOW)
    assert not install.receive(spec, ours, NOW).changed  # the same certificate again: accepted, nothing new
