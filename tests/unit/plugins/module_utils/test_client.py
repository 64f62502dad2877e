"""The parts of the ACME session that are ours, not the library's: tests plugins/module_utils/client.py.

The protocol itself is exercised against a real Pebble in tests/integration.
"""

from __future__ import annotations

import datetime
import os
import stat

import pytest
from acme import errors as acme_errors
from acme import messages

from ansible_collections.zerodowntime.acme.plugins.module_utils import client
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AccountError, CAError


def test_missing_account_key_is_created_0600(tmp_path):
    path = tmp_path / "accounts" / "ca.pem"
    jwk, alg = client._account_jwk(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert alg.name == "ES256"
    assert client._account_jwk(str(path))[0].thumbprint() == jwk.thumbprint()


def test_garbage_account_key_is_an_account_error(tmp_path):
    path = tmp_path / "account.pem"
    path.write_text("not a key")
    with pytest.raises(AccountError, match="not an unencrypted PEM private key"):
        client._account_jwk(str(path))


def test_polling_stops_at_the_deadline():
    past = datetime.datetime.now() - datetime.timedelta(seconds=1)
    with pytest.raises(CAError, match="before the timeout"):
        client._sleep_until(datetime.datetime.now(), past, "the CA did not validate a.example")


def test_retry_after_beyond_the_deadline_sleeps_only_until_the_deadline():
    start = datetime.datetime.now()
    deadline = start + datetime.timedelta(seconds=0.2)
    client._sleep_until(start + datetime.timedelta(hours=6), deadline, "x")
    assert datetime.datetime.now() - start < datetime.timedelta(seconds=2)


OFFERED = {"classic": "90 days", "shortlived": "6 days"}


@pytest.mark.parametrize("wanted, expected", [(None, None), ("", None), ("shortlived", "shortlived")])
def test_an_offered_profile_or_none_is_used_as_is(wanted, expected):
    assert client.choose_profile(OFFERED, wanted, False, "https://ca/dir") == (expected, None)


def test_a_missing_profile_falls_back_to_the_default_with_a_warning():
    profile, warning = client.choose_profile(OFFERED, "tlsserver", False, "https://ca/dir")
    assert profile is None
    assert "does not offer the profile 'tlsserver'" in warning and "classic, shortlived" in warning


def test_a_missing_required_profile_is_an_error():
    from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError

    with pytest.raises(ConfigError, match="does not offer the profile 'tlsserver'.*classic, shortlived"):
        client.choose_profile(OFFERED, "tlsserver", True, "https://ca/dir")


def test_a_ca_without_profiles_lists_none():
    _profile, warning = client.choose_profile({}, "shortlived", False, "https://ca/dir")
    assert "offers: none" in warning


@pytest.mark.parametrize("text, expected", [
    ("2026-11-29T12:00:00Z", datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.timezone.utc)),
    ("2026-11-29T12:00:00.123456789Z",  # Pebble sends nanoseconds
     datetime.datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)),
    ("2026-11-29T13:00:00+01:00", datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.timezone.utc)),
])
def test_rfc3339_times_with_any_fraction(text, expected):
    assert client._rfc3339(text) == expected


def test_a_time_that_is_not_rfc3339_is_a_ca_error():
    with pytest.raises(CAError, match="not RFC 3339"):
        client._rfc3339("tomorrow")


@pytest.mark.parametrize("error, again", [
    (acme_errors.ConflictError("https://ca/order/1"), True),  # the library's form of alreadyReplaced
    (messages.Error(typ="urn:ietf:params:acme:error:alreadyReplaced"), True),  # unknown to the library
    (messages.Error.with_code("serverInternal"), True),  # Pebble cannot find the certificate
    (messages.Error.with_code("malformed"), True),
    (messages.Error.with_code("rateLimited"), False),
    (messages.Error.with_code("unauthorized"), False),
    (ValueError("not the CA's answer"), False),
])
def test_which_refusals_send_the_order_again_without_replaces(error, again):
    assert client.order_again_without_replaces(error) is again
