"""Certificate profiles against Pebble 2.10, which offers `default`, `tlsserver` and `shortlived`."""

from __future__ import annotations

import datetime

from .conftest import run_module


def _parse(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _lifetime(result: dict) -> datetime.timedelta:
    return _parse(result["not_after"]) - _parse(result["not_before"])


def test_shortlived_profile_gives_a_six_day_certificate_renewed_at_half_its_life(testbed):
    issued = run_module(testbed.args("short", name="short", profile="shortlived"))
    assert issued["changed"] is True, issued
    assert datetime.timedelta(hours=159) <= _lifetime(issued) <= datetime.timedelta(hours=161)
    again = run_module(testbed.args("short", name="short", profile="shortlived"))
    assert again["changed"] is False, again["reason"]
    assert "of its 160-hour lifetime left" in again["reason"]
    # Due around the middle of its life (Pebble's ARI window, or the half-life fallback), not now.
    due = (_parse(again["renew_at"]) - _parse(again["not_before"])) / _lifetime(again)
    assert 0.4 <= due <= 0.8, due


def test_a_change_of_profile_reissues(testbed):
    run_module(testbed.args("switch", name="switch", profile="default"))
    switched = run_module(testbed.args("switch", name="switch", profile="tlsserver"))
    assert switched["changed"] is True and "profile changed from default to tlsserver" in switched["reason"]
    assert datetime.timedelta(days=44) <= _lifetime(switched) <= datetime.timedelta(days=46)


def test_a_profile_the_ca_lacks_falls_back_with_a_warning_and_does_not_loop(testbed):
    first = run_module(testbed.args("fallback", name="fallback", profile="classic"))
    assert first["changed"] is True, first
    assert any("does not offer the profile 'classic'" in w for w in first.get("warnings", []))
    assert run_module(testbed.args("fallback", name="fallback", profile="classic"))["changed"] is False


def test_a_required_profile_the_ca_lacks_fails_clearly(testbed):
    result = run_module(testbed.args("fallback", name="required", profile="classic", profile_required=True))
    assert result.get("failed") is True
    assert "does not offer the profile 'classic'" in result["msg"] and "shortlived" in result["msg"]
