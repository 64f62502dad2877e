"""The account module's input checks and offline paths: tests plugins/module_utils/account.py.

Creation, contacts, binding, rollover and deactivation run against Pebble in
tests/integration/test_account.py."""

from __future__ import annotations

import os

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils.account import AccountSpec, _contacts, manage
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError

UNREACHABLE = "https://127.0.0.1:9/dir"


@pytest.mark.parametrize("changes, words", [
    (dict(state="gone"), "state must be one of present, absent"),
    (dict(eab_kid="kid"), "needs both eab_kid and eab_hmac_key"),
    (dict(eab_hmac_key="abc"), "needs both eab_kid and eab_hmac_key"),
    (dict(eab_kid="kid", eab_hmac_key="not base64 !"), "not a base64url-encoded key"),
    (dict(eab_kid="kid", eab_hmac_key="abc!" * 8), "not a base64url-encoded key"),
    (dict(state="absent", new_account_key="/tmp/new.pem"), "cannot be combined with state=absent"),
    (dict(new_account_key="KEY"), "must be another file than account_key"),
    (dict(account_email="a@x.test,b@x.test"), "is not one e-mail address"),
    (dict(account_email="nobody"), "is not one e-mail address"),
])
def test_bad_input_is_refused_before_any_request(tmp_path, changes, words):
    key = str(tmp_path / "account.pem")
    if changes.get("new_account_key") == "KEY":
        changes["new_account_key"] = key
    with pytest.raises(ConfigError, match=words):
        manage(AccountSpec.from_options(dict(directory_url=UNREACHABLE, account_key=key, **changes)))
    assert not os.path.exists(key)


@pytest.mark.parametrize("email, contacts", [
    (None, None), ("", ()), ("  ", ()), ("ops@x.test", ("mailto:ops@x.test",)),
    ("mailto:ops@x.test", ("mailto:ops@x.test",)),
])
def test_wanted_contacts(email, contacts):
    assert _contacts(email) == contacts


def test_check_mode_without_a_key_reports_a_creation_and_writes_nothing(tmp_path):
    key = tmp_path / "accounts" / "new.pem"
    options = dict(directory_url=UNREACHABLE, account_key=str(key), account_email="ops@x.test", terms_agreed=True)
    outcome = manage(AccountSpec.from_options(options), check_mode=True)
    assert outcome.changed and outcome.actions == ["created"] and outcome.contacts == ["mailto:ops@x.test"]
    assert not key.parent.exists()


def test_check_mode_without_a_key_or_the_terms_says_what_is_missing(tmp_path):
    from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AccountError

    with pytest.raises(AccountError, match="set terms_agreed=true"):
        manage(AccountSpec.from_options(dict(directory_url=UNREACHABLE, account_key=str(tmp_path / "new.pem"))), check_mode=True)


def test_absent_without_a_key_is_nothing_to_do(tmp_path):
    key = tmp_path / "none.pem"
    outcome = manage(AccountSpec.from_options(dict(directory_url=UNREACHABLE, account_key=str(key), state="absent")))
    assert not outcome.changed and outcome.status == "absent" and not key.exists()
