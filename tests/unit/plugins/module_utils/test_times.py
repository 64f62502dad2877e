"""Timestamps and Retry-After: tests plugins/module_utils/times.py."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import times

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 29, 12, 1, tzinfo=UTC)
DEFAULT = datetime.timedelta(seconds=7)


@pytest.mark.parametrize("value, expected", [
    ("120", datetime.timedelta(seconds=120)),
    ("0", times.MIN_RETRY_AFTER),  # never hammer
    ("86401", times.MAX_RETRY_AFTER),
    ("99999999999999999999999999999999", times.MAX_RETRY_AFTER),  # would overflow a timedelta
    ("9" * 5000, times.MAX_RETRY_AFTER),  # longer than int() takes
    (None, DEFAULT), ("", DEFAULT), ("soon", DEFAULT), ("-5", DEFAULT), ("1.5", DEFAULT),
    ("１２", DEFAULT), ("Montag", DEFAULT), ("\u00e9t\u00e9", DEFAULT),
    ("Sun, 29 Nov 2026 12:00:00 GMT", times.MIN_RETRY_AFTER),  # in the past
    ("Sun, 29 Nov 2026 12:11:00 GMT", datetime.timedelta(minutes=10)),
    ("Sun, 29 Nov 9999 12:11:00 GMT", times.MAX_RETRY_AFTER),
    ("Sun, 99 Nov 2026 12:11:00 GMT", DEFAULT),
])
def test_retry_after_is_clamped_and_garbage_counts_as_absent(value, expected):
    assert times.retry_after(value, DEFAULT, NOW) == expected


def test_retry_after_without_a_default_can_be_absent():
    assert times.retry_after("garbage", None, NOW) is None


@pytest.mark.parametrize("text, expected", [
    ("2026-11-29T12:00:00Z", datetime.datetime(2026, 11, 29, 12, tzinfo=UTC)),
    ("2026-11-29T12:00:00.123456789Z",  # Pebble sends nanoseconds
     datetime.datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)),
    ("2026-11-29T13:00:00+01:00", datetime.datetime(2026, 11, 29, 12, tzinfo=UTC)),
])
def test_rfc3339_times_with_any_fraction(text, expected):
    assert times.parse_rfc3339(text) == expected


@pytest.mark.parametrize("text", ["tomorrow", 1700000000, None, ["2026-11-29T12:00:00Z"], "2026-11-29T12:00:00",
                                  "2026-11-29T12:00:00Z\n", "2026-11-29 12:00:00Z", "２０２６-11-29T12:00:00Z"])
def test_anything_else_is_not_rfc3339(text):
    with pytest.raises(ValueError):
        times.parse_rfc3339(text)


def test_iso_round_trips_and_naive_times_are_refused():
    assert times.parse_iso(times.iso(NOW)) == NOW
    assert times.parse_iso(NOW.isoformat()) == NOW
    for bad in ("2026-11-29T12:01:00", "yesterday", 5, None):
        with pytest.raises(ValueError):
            times.parse_iso(bad)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T23:59:59Z",
                                  "9000-01-01T00:00:00Z", "2026-11-29T12:00:00Z" + " " * 80])
def test_a_moment_out_of_range_is_a_bad_timestamp_not_an_overflow(text):
    with pytest.raises(ValueError):
        times.parse_iso(text)


def test_a_cas_time_out_of_range_is_a_bad_time_too():
    with pytest.raises(ValueError):
        times.parse_rfc3339("0001-01-01T00:00:00+14:00")
