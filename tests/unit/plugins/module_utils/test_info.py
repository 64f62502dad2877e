"""A lineage's state for monitoring: tests plugins/module_utils/info.py."""

from __future__ import annotations

import datetime

from ansible_collections.zerodowntime.acme.plugins.module_utils import info, versions
from tests.unit.conftest import NOW, make_cert

DIR = "https://acme.test/dir"


def test_missing_lineage_is_due():
    got = info.describe("/nonexistent", "a", directory_url=DIR, now=NOW)
    assert (got.exists, got.due, got.domains, got.days_left) == (False, True, [], None)


def test_existing_lineage_reports_expiry_and_decision_from_its_own_names(tmp_path):
    key, chain = make_cert(["a.example", "b.example"], not_before=NOW - datetime.timedelta(days=70))
    versions.write(str(tmp_path), "a", key, chain, {"directory_url": DIR})
    got = info.describe(str(tmp_path), "a", directory_url=DIR, now=NOW)
    assert got.exists and got.domains == ["a.example", "b.example"]
    assert got.days_left == 20.0
    assert got.due and "less than a third" in got.reason
    assert got.issuer == "CN=Test Intermediate"
    assert got.renew_at == "2026-11-19T12:00:00Z"


def test_without_a_directory_the_lineage_is_judged_by_the_ca_that_issued_it(tmp_path):
    key, chain = make_cert(["a.example"], not_before=NOW - datetime.timedelta(days=10))
    versions.write(str(tmp_path), "a", key, chain, {"directory_url": "https://acme-staging-v02.api.letsencrypt.org/directory"})
    got = info.describe(str(tmp_path), "a", now=NOW)
    assert not got.due and got.reason.startswith("not due"), got.reason
    # Asked about another CA explicitly, it is due.
    assert info.describe(str(tmp_path), "a", directory_url=DIR, now=NOW).due


def test_a_pending_reload_is_reported(tmp_path):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads

    key, chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, chain, {"directory_url": DIR})
    assert not info.describe(str(tmp_path), "a", now=NOW).reload_pending
    reloads.mark(str(tmp_path), "a", NOW)
    assert info.describe(str(tmp_path), "a", now=NOW).reload_pending


def test_inspect_describes_with_the_root_its_chain_leads_to_and_stays_offline(tmp_path):
    key, chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, chain, {"directory_url": DIR, "roots": ["ROOT PEM"]})
    # The connection points nowhere: without check_ari nothing may go online.
    connection = {"directory_url": None, "ca_bundle": None, "validate_certs": True, "timeout": 1}
    got = info.inspect(str(tmp_path), "a", connection)
    assert got["exists"] and got["domains"] == ["a.example"] and got["chain_roots"] == ["ROOT PEM"]
    assert "ari_window" not in got
    missing = info.inspect(str(tmp_path), "b", {"directory_url": None})
    assert not missing["exists"] and "chain_roots" not in missing


def test_inspect_checks_the_name_before_anything_is_read(tmp_path):
    import pytest

    from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError

    with pytest.raises(ConfigError):
        info.inspect(str(tmp_path), "../etc", {"directory_url": None}, check_ari=True)
