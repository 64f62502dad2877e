"""The input contract and its checks: tests plugins/module_utils/spec.py."""

from __future__ import annotations

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import spec
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def test_default_account_key_is_one_per_directory_host():
    assert spec.default_account_key(spec.LETSENCRYPT) == \
        "/etc/zerodowntime-acme/accounts/acme-v02.api.letsencrypt.org.pem"
    assert spec.default_account_key("https://127.0.0.1:14000/dir") == \
        "/etc/zerodowntime-acme/accounts/127.0.0.1_14000.pem"


def test_validated_fills_in_name_and_account_key(tmp_path):
    done = spec.validated(spec.CertificateSpec(domains=["WWW.Example.org", "example.org"], webroot=str(tmp_path)))
    assert done.domains == ["www.example.org", "example.org"]
    assert done.name == "www.example.org"
    assert done.account_key == "/etc/zerodowntime-acme/accounts/acme-v02.api.letsencrypt.org.pem"


@pytest.mark.parametrize("change, words", [
    (dict(key_type="ed25519"), "key_type"),
    (dict(directory_url="ftp://ca/dir"), "not an http"),
    (dict(timeout=0), "timeout"),
])
def test_bad_options_are_config_errors(tmp_path, change, words):
    with pytest.raises(ConfigError, match=words):
        spec.validated(spec.CertificateSpec(domains=["a.example"], webroot=str(tmp_path), **change))


def test_renew_before_days_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match="renew_before_days"):
        spec.validated(spec.CertificateSpec(domains=["a.example"], webroot=str(tmp_path), renew_before_days=0))


def test_profile_required_needs_a_profile(tmp_path):
    with pytest.raises(ConfigError, match="profile_required"):
        spec.validated(spec.CertificateSpec(domains=["a.example"], webroot=str(tmp_path), profile_required=True))
