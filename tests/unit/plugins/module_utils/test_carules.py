"""What CAs ask of an order: tests plugins/module_utils/carules.py."""

from __future__ import annotations

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import carules
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError

OFFERED = {"classic": "90 days", "shortlived": "6 days"}
LE = "https://acme-v02.api.letsencrypt.org/directory"


@pytest.mark.parametrize("wanted, expected", [(None, None), ("", None), ("shortlived", "shortlived")])
def test_an_offered_profile_or_none_is_used_as_is(wanted, expected):
    assert carules.choose_profile(OFFERED, wanted, False, "https://ca/dir") == (expected, None)


def test_a_missing_profile_falls_back_to_the_default_with_a_warning():
    profile, warning = carules.choose_profile(OFFERED, "tlsserver", False, "https://ca/dir")
    assert profile is None
    assert "does not offer the profile 'tlsserver'" in warning and "classic, shortlived" in warning


def test_a_missing_required_profile_is_an_error():
    with pytest.raises(ConfigError, match="does not offer the profile 'tlsserver'.*classic, shortlived"):
        carules.choose_profile(OFFERED, "tlsserver", True, "https://ca/dir")


def test_an_address_certificate_without_a_profile_asks_for_shortlived_and_says_so():
    profile, note = carules.choose_profile(OFFERED, None, False, "https://ca/dir", has_addresses=True)
    assert profile == "shortlived" and "asked for 'shortlived'" in note and "set profile" in note
    # A profile given wins; a CA without shortlived gets its default; DNS names are left alone.
    assert carules.choose_profile(OFFERED, "classic", False, "https://ca/dir", has_addresses=True) == ("classic", None)
    assert carules.choose_profile({"classic": "90 days"}, None, False, "https://ca/dir", has_addresses=True) == (None, None)
    assert carules.choose_profile(OFFERED, None, False, "https://ca/dir") == (None, None)


def test_a_ca_without_profiles_lists_none():
    _profile, warning = carules.choose_profile({}, "shortlived", False, "https://ca/dir")
    assert "offers: none" in warning


def test_a_certificate_with_an_address_is_known_as_such():
    assert carules.has_addresses(["a.example", "127.0.0.5"])
    assert carules.has_addresses(["2001:db8::1"])
    assert not carules.has_addresses(["a.example", "1.example"])


@pytest.mark.parametrize("domains, profile, words", [
    (["192.0.2.1"], "classic", "only in the 'shortlived' profile, not in 'classic'"),
    (["10.0.0.1"], None, "private, loopback or reserved"),
    (["127.0.0.1"], "shortlived", "private, loopback or reserved"),
])
def test_lets_encrypt_refuses_addresses_outside_its_rule_before_any_order(domains, profile, words):
    with pytest.raises(ConfigError, match=words):
        carules.check_addresses(domains, LE, profile)


def test_other_cas_and_public_addresses_in_shortlived_pass():
    carules.check_addresses(["8.8.8.8"], LE, "shortlived")
    carules.check_addresses(["8.8.8.8"], LE, None)
    carules.check_addresses(["127.0.0.1", "10.0.0.1"], "https://127.0.0.1:14000/dir", "classic")
    carules.check_addresses(["a.example"], LE, "classic")


def test_a_refused_address_order_names_the_profile_to_set():
    assert "in the profile 'classic'" in carules.refused_for_addresses("classic")
    assert "in its default profile" in carules.refused_for_addresses(None)
    assert "Let's Encrypt: shortlived" in carules.refused_for_addresses(None)


@pytest.mark.parametrize("problem, conflict, again", [
    (None, True, True),  # the library's form of alreadyReplaced (409, no problem document kept)
    ("alreadyReplaced", False, True),
    ("serverInternal", False, True),  # Pebble cannot find the certificate
    ("malformed", False, True),
    ("unauthorized", False, True),  # Let's Encrypt, when the account changed
    ("rateLimited", False, False),
    ("badNonce", False, False),
    ("accountDoesNotExist", False, False),
    (None, False, False),  # not the CA's answer at all
])
def test_which_refusals_send_the_order_again_without_replaces(problem, conflict, again):
    assert carules.order_again_without_replaces(problem, conflict) is again


@pytest.mark.parametrize("authorization, challenge, has_error, failed", [
    ("pending", "pending", False, False),  # not validated yet
    ("pending", "processing", True, False),  # the CA retries (RFC 8555 8.2)
    ("processing", "processing", True, False),
    ("pending", "pending", True, True),  # step-ca and Caddy: an error, back to pending
    ("pending", "invalid", False, True),
    ("invalid", "invalid", True, True),
    ("deactivated", None, False, True),
    ("expired", "pending", False, True),
])
def test_when_a_challenge_has_failed_for_good(authorization, challenge, has_error, failed):
    assert carules.challenge_failed(authorization, challenge, has_error) is failed
