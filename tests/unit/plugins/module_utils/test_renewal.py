"""The renewal decision table: tests plugins/module_utils/renewal.py."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import lineage, renewal
from tests.unit.conftest import NOW, make_cert

DIR = "https://acme.test/dir"
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def _lineage(domains=("a.example",), *, lifetime=90 * DAY, age=0 * DAY, key_type="ec256",
             self_signed=False, directory_url=DIR):
    _key, pem = make_cert(list(domains), not_before=NOW - age, lifetime=lifetime, key_type=key_type,
                          self_signed=self_signed)
    meta = {"directory_url": directory_url} if directory_url else {}
    return lineage.Lineage("a", lineage.paths_for("/x", "a"), lineage.cert_info(pem), meta=meta)


def _decide(current, domains=("a.example",), key_type="ec256", force=False):
    return renewal.decide(current, domains=list(domains), key_type=key_type, directory_url=DIR,
                          force=force, now=NOW)


@pytest.mark.parametrize("lifetime, age, due", [
    # 90 days: due once a third (30 days) is left, i.e. from day 60.
    (90 * DAY, 0 * DAY, False),
    (90 * DAY, 59 * DAY, False),
    (90 * DAY, 60 * DAY + HOUR, True),
    (90 * DAY, 95 * DAY, True),             # expired
    # 45 days (tlsserver, and Let's Encrypt's default from 2028): due from day 30.
    (45 * DAY, 29 * DAY, False),
    (45 * DAY, 30 * DAY + HOUR, True),
    # 6 days (shortlived): under 10 days, so due when half is left: from hour 72.
    (6 * DAY, 2 * DAY, False),
    (6 * DAY, 71 * HOUR, False),
    (6 * DAY, 73 * HOUR, True),
    # 160 hours, Let's Encrypt's shortlived profile exactly: due after 80 hours.
    (160 * HOUR, 79 * HOUR, False),
    (160 * HOUR, 81 * HOUR, True),
])
def test_lifetime_fraction(lifetime, age, due):
    decision = _decide(_lineage(lifetime=lifetime, age=age))
    assert decision.due is due, decision.reason
    assert decision.renew_at is not None


def test_six_day_certificate_is_not_renewed_on_every_run():
    # A fixed "30 days before expiry" rule would renew this on every run.
    decision = _decide(_lineage(lifetime=6 * DAY, age=1 * DAY))
    assert not decision.due
    assert decision.renew_at == NOW - 1 * DAY + 3 * DAY


def test_renew_at_is_two_thirds_into_a_long_lifetime():
    start = NOW
    assert renewal.renew_at(start, start + 90 * DAY) == start + 60 * DAY
    assert renewal.renew_at(start, start + 45 * DAY) == start + 30 * DAY


def test_no_certificate_is_due():
    decision = _decide(None)
    assert decision.due and "no certificate" in decision.reason


def test_unreadable_certificate_is_due():
    broken = lineage.Lineage("a", lineage.paths_for("/x", "a"), None, problem="not PEM")
    decision = _decide(broken)
    assert decision.due and "not PEM" in decision.reason


@pytest.mark.parametrize("wanted", [
    ["a.example"], ["A.EXAMPLE"], ["b.example", "a.example"], ["B.example", "a.example"],
])
def test_same_names_in_any_order_and_case_are_not_due(wanted):
    current = _lineage(domains=("a.example", "b.example") if len(wanted) == 2 else ("a.example",))
    assert not _decide(current, domains=wanted).due


def test_changed_names_are_due_and_named():
    decision = _decide(_lineage(domains=("a.example", "b.example")), domains=["a.example", "c.example"])
    assert decision.due
    assert "adds c.example" in decision.reason and "removes b.example" in decision.reason


@pytest.mark.parametrize("have, want", [("ec256", "rsa2048"), ("rsa2048", "ec256"), ("ec256", "ec384")])
def test_changed_key_type_is_due(have, want):
    decision = _decide(_lineage(key_type=have), key_type=want)
    assert decision.due and f"from {have} to {want}" in decision.reason


def test_self_signed_placeholder_is_due():
    decision = _decide(_lineage(self_signed=True))
    assert decision.due and "self-signed" in decision.reason


@pytest.mark.parametrize("issued_by, words", [("https://other.test/dir", "other.test"), (None, "not issued")])
def test_certificate_from_another_directory_is_due(issued_by, words):
    decision = _decide(_lineage(directory_url=issued_by))
    assert decision.due and words in decision.reason


def test_force_is_due_even_when_fresh():
    decision = _decide(_lineage(), force=True)
    assert decision.due and "force" in decision.reason


def test_not_due_reason_says_when():
    decision = _decide(_lineage(age=10 * DAY))
    assert not decision.due
    assert decision.reason.startswith("not due: 80 days of its 90-day lifetime left")
    assert "2027-01-18" in decision.reason


def test_describe_name_change_is_empty_for_equal_sets():
    assert renewal.describe_name_change(["A.example", "b.example"], ["b.example", "a.example"]) == ""


@pytest.mark.parametrize("lifetime, age, days, due", [
    (90 * DAY, 50 * DAY, 30, False),       # 40 days left, renew 30 days before
    (90 * DAY, 61 * DAY, 30, True),        # 29 days left
    (90 * DAY, 10 * DAY, 85, True),        # a wide window: due already
    (45 * DAY, 10 * DAY, 10, False),
])
def test_renew_before_days_replaces_the_fraction(lifetime, age, days, due):
    decision = renewal.decide(_lineage(lifetime=lifetime, age=age), domains=["a.example"], key_type="ec256",
                              directory_url=DIR, force=False, now=NOW, renew_before=days * DAY)
    assert decision.due is due, decision.reason
    assert decision.renew_at == NOW - age + lifetime - days * DAY
    assert "renew_before_days" in decision.reason


def test_a_change_of_profile_is_due_and_the_granted_profile_does_not_matter():
    current = _lineage()
    current.meta.update({"profile_requested": "tlsserver", "profile": None})  # the CA fell back
    assert not renewal.decide(current, domains=["a.example"], key_type="ec256", directory_url=DIR,
                              force=False, now=NOW, profile="tlsserver").due
    changed = renewal.decide(current, domains=["a.example"], key_type="ec256", directory_url=DIR,
                             force=False, now=NOW, profile="shortlived")
    assert changed.due and "profile changed from tlsserver to shortlived" in changed.reason


def _ari(start, end, chosen):
    from ansible_collections.zerodowntime.acme.plugins.module_utils.ari import Window

    return Window(start, end, chosen, NOW + 6 * HOUR)


@pytest.mark.parametrize("start, end, chosen, due", [
    (NOW - 2 * DAY, NOW - DAY, NOW - 36 * HOUR, True),     # window past
    (NOW - HOUR, NOW + HOUR, NOW - HOUR / 2, True),  # inside, chosen point passed
    (NOW - HOUR, NOW + HOUR, NOW + HOUR / 2, False),  # inside, chosen point ahead
    (NOW + DAY, NOW + 2 * DAY, NOW + 30 * HOUR, False),    # window future
])
def test_the_ari_window_decides_instead_of_the_fraction(start, end, chosen, due):
    # A 10-day-old 90-day certificate: the fraction alone would say "not due" for 50 more days.
    decision = renewal.decide(_lineage(age=10 * DAY), domains=["a.example"], key_type="ec256", directory_url=DIR,
                              force=False, now=NOW, ari=_ari(start, end, chosen))
    assert decision.due is due, decision.reason
    assert decision.renew_at == chosen
    assert "ARI" in decision.reason


def test_a_window_later_than_the_fraction_never_postpones_the_renewal():
    # 65 days into 90: the fraction says due, the CA's window says later. A late window from a
    # broken or hostile CA must not carry a certificate to its expiry: the fraction wins.
    decision = renewal.decide(_lineage(age=65 * DAY), domains=["a.example"], key_type="ec256", directory_url=DIR,
                              force=False, now=NOW, ari=_ari(NOW + DAY, NOW + 2 * DAY, NOW + 30 * HOUR))
    assert decision.due and "less than a third of its lifetime is left, earlier than the point chosen" in decision.reason
    assert decision.renew_at == NOW - 5 * DAY


def test_a_window_earlier_than_the_fraction_decides():
    decision = renewal.decide(_lineage(age=40 * DAY), domains=["a.example"], key_type="ec256", directory_url=DIR,
                              force=False, now=NOW, ari=_ari(NOW + DAY, NOW + 2 * DAY, NOW + 30 * HOUR))
    assert not decision.due and decision.renew_at == NOW + 30 * HOUR and "ARI" in decision.reason


def test_renew_before_days_still_comes_first_when_earlier_than_the_window():
    decision = renewal.decide(_lineage(age=65 * DAY), domains=["a.example"], key_type="ec256", directory_url=DIR,
                              force=False, now=NOW, renew_before=30 * DAY,
                              ari=_ari(NOW + DAY, NOW + 2 * DAY, NOW + 30 * HOUR))
    assert decision.due and "renew_before_days" in decision.reason


def test_a_revoked_certificate_is_due_at_once():
    fresh = _lineage()
    revoked = lineage.Lineage("a", fresh.paths, fresh.cert,
                              meta=dict(fresh.meta, revoked={"reason": "keyCompromise", "at": "2026-11-29T12:00:00Z"}))
    assert not _decide(fresh).due
    decision = _decide(revoked)
    assert decision.due and "revoked (keyCompromise)" in decision.reason
