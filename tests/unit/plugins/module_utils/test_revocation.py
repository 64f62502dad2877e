"""certificate_revoke's offline paths: tests plugins/module_utils/revocation.py.

Revocations themselves run against Pebble in tests/integration/test_revoke.py."""

from __future__ import annotations

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import lineage, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError
from ansible_collections.zerodowntime.acme.plugins.module_utils.revocation import REASONS, RevokeSpec, revoke
from tests.unit.conftest import make_cert

DIR = "https://127.0.0.1:9/dir"


def test_reason_codes_are_rfc_5280s():
    assert REASONS["unspecified"] == 0 and REASONS["keyCompromise"] == 1 and REASONS["superseded"] == 4
    assert REASONS["cessationOfOperation"] == 5 and REASONS["removeFromCRL"] == 8 and 7 not in REASONS.values()


def _spec(tmp_path, **extra):
    return RevokeSpec.from_options(dict(name="a", cert_dir=str(tmp_path), directory_url=DIR, **extra))


def test_an_unknown_reason_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="'bored' is not an RFC 5280 reason"):
        revoke(_spec(tmp_path, reason="bored"))


def test_a_missing_certificate_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no certificate named 'a'"):
        revoke(_spec(tmp_path))


def test_a_placeholder_is_not_revocable(tmp_path):
    key, pem = make_cert(["a.example"], self_signed=True)
    versions.write(str(tmp_path), "a", key, pem, {"placeholder": True})
    with pytest.raises(ConfigError, match="self-signed placeholder"):
        revoke(_spec(tmp_path))


def test_check_mode_reports_without_contacting_the_ca_and_a_noted_revocation_is_no_change(tmp_path):
    key, pem = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, pem, {"directory_url": DIR})
    assert revoke(_spec(tmp_path), check_mode=True).changed
    versions.update_meta(str(tmp_path), "a", {"revoked": {"reason": "superseded", "at": "2026-11-30T00:00:00Z"}})
    outcome = revoke(_spec(tmp_path))
    assert not outcome.changed and outcome.reason == "superseded" and "already revoked" in outcome.msg
    assert lineage.read(str(tmp_path), "a").meta["directory_url"] == DIR  # the rest of meta.json stays
