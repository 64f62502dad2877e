"""The cron path's failure backoff: tests plugins/module_utils/backoff.py."""

from __future__ import annotations

import datetime
import random

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import backoff, times

NOW = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)
MINUTE = datetime.timedelta(minutes=1)


@pytest.mark.parametrize("failures, nominal", [(1, MINUTE), (2, 10 * MINUTE), (3, 100 * MINUTE),
                                               (4, 1440 * MINUTE), (9, 1440 * MINUTE)])
def test_delays_grow_about_tenfold_then_stay_daily(failures, nominal):
    rng = random.Random(failures)
    for _sample in range(50):
        assert nominal * 0.8 <= backoff.delay(failures, rng) <= nominal * 1.2


def test_failures_accumulate_and_success_clears(tmp_path):
    state: dict = {}
    first = backoff.failed(state, "a", NOW)
    second = backoff.failed(state, "a", NOW)
    assert (first["failures"], second["failures"]) == (1, 2)
    assert backoff.waiting_until(state, "a", NOW) is not None
    assert backoff.waiting_until(state, "a", NOW + datetime.timedelta(minutes=13)) is None
    path = str(tmp_path / "backoff.json")
    backoff.save(path, state)
    assert backoff.load(path) == (state, [])
    backoff.succeeded(state, "a")
    assert state == {} and backoff.waiting_until(state, "a", NOW) is None


def test_a_broken_state_file_is_an_empty_state_with_a_warning(tmp_path):
    (tmp_path / "backoff.json").write_text("{not json")
    state, warnings = backoff.load(str(tmp_path / "backoff.json"))
    assert state == {} and "could not be read; it is written anew" in warnings[0]


@pytest.mark.parametrize("entry", [
    {"next_attempt": "2026-11-29T12:00:00+00:00"},  # no failures
    {"failures": "2", "next_attempt": "2026-11-29T12:00:00+00:00"},
    {"failures": 0, "next_attempt": "2026-11-29T12:00:00+00:00"},
    {"failures": True, "next_attempt": "2026-11-29T12:00:00+00:00"},
    {"failures": 2, "next_attempt": "2026-11-29T12:00:00"},  # naive
    {"failures": 2, "next_attempt": 1764417600},
    {"failures": 2},
    "two",
    [1, 2],
])
def test_an_entry_that_makes_no_sense_is_dropped_with_a_warning_and_the_rest_kept(tmp_path, entry):
    import json

    good = {"failures": 1, "next_attempt": "2026-11-29T12:01:00+00:00"}
    (tmp_path / "backoff.json").write_text(json.dumps({"bad": entry, "good": good}))
    state, warnings = backoff.load(str(tmp_path / "backoff.json"))
    assert state == {"good": good}
    assert len(warnings) == 1 and "'bad'" in warnings[0]
    backoff.failed(state, "good", NOW)  # and the state goes on working
    assert state["good"]["failures"] == 2


def test_a_retry_after_longer_than_the_step_is_honoured():
    state: dict = {}
    ca_says = NOW + datetime.timedelta(hours=3)
    entry = backoff.failed(state, "a", NOW, retry_after=ca_says)
    assert entry == {"failures": 1, "next_attempt": times.iso(ca_says)}
    assert backoff.waiting_until(state, "a", NOW + datetime.timedelta(hours=2)) == ca_says


def test_a_retry_after_shorter_than_the_step_does_not_shorten_it():
    state: dict = {}
    for _attempt in range(3):
        entry = backoff.failed(state, "a", NOW, retry_after=NOW + datetime.timedelta(seconds=5))
    assert datetime.datetime.fromisoformat(entry["next_attempt"]) >= NOW + 80 * MINUTE


def test_an_entry_whose_date_cannot_be_converted_is_dropped_not_a_crash(tmp_path):
    path = tmp_path / "backoff.json"
    path.write_text('{"a": {"failures": 2, "next_attempt": "0001-01-01T00:00:00+14:00"},'
                    ' "b": {"failures": 1, "next_attempt": "2026-11-29T12:01:00+00:00"}}')
    state, warnings = backoff.load(str(path))
    assert list(state) == ["b"] and len(warnings) == 1 and "'a'" in warnings[0]


def test_a_retry_after_with_a_fraction_of_a_second_is_never_shortened():
    """The state file has one format, whole seconds with Z (times.iso); the fraction rounds up."""
    state: dict = {}
    ca_says = NOW + datetime.timedelta(hours=3, microseconds=1)
    entry = backoff.failed(state, "a", NOW, retry_after=ca_says)
    assert entry["next_attempt"] == "2026-11-29T15:00:01Z"
    assert backoff.waiting_until(state, "a", ca_says) is not None
