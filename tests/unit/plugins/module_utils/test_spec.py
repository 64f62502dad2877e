"""The input contract and its checks: tests plugins/module_utils/spec.py."""

from __future__ import annotations

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import spec
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def _validated(tmp_path, **options):
    return spec.validated(spec.CertificateSpec.from_options(dict(dict(domains=["a.example"], webroot=str(tmp_path)),
                                                                 **options)))


def test_validated_fills_in_name_and_account_key(tmp_path):
    done = _validated(tmp_path, domains=["WWW.Example.org", "example.org"])
    assert done.domains == ["www.example.org", "example.org"]
    assert done.name == "www.example.org"
    assert done.ca.account_key == "/etc/zerodowntime-acme/accounts/acme-v02.api.letsencrypt.org.pem"


@pytest.mark.parametrize("change, words", [
    (dict(key_type="ed25519"), "key_type"),
    (dict(directory_url="ftp://ca/dir"), "not https"),
    (dict(timeout=0), "timeout"),
    (dict(renew_before_days=0), "renew_before_days"),
    (dict(renew_before_days=366), "renew_before_days"),
    (dict(renew_before_days=True), "renew_before_days"),
    (dict(profile_required=True), "profile_required"),
    (dict(webroot="relative/www"), "absolute path"),
    (dict(cert_dir="/etc/live\nlocation / {"), "absolute path"),
    (dict(reuse_key="yes"), "reuse_key has the wrong type"),
    (dict(force=True), "unknown or missing option"),  # a run option, not the certificate's
    (dict(name=7), "name has the wrong type"),
    (dict(timeout="300"), "timeout has the wrong type"),
    (dict(colour="blue"), "unknown or missing option"),
])
def test_bad_options_are_config_errors(tmp_path, change, words):
    with pytest.raises(ConfigError, match=words):
        _validated(tmp_path, **change)


def test_renew_before_days_within_a_year_is_fine(tmp_path):
    assert _validated(tmp_path, renew_before_days=365).renew_before_days == 365
