"""A certificate from a pool's issuer, installed on a member: tests plugins/module_utils/install.py."""

from __future__ import annotations

import dataclasses
import datetime
import grp
import json
import os
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
