# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failure backoff for the cron path: after a failed attempt at a certificate, wait about 1 min,
then 10 min, then 100 min, then a day (with jitter) before the next one, as Let's Encrypt asks.
The state is one JSON file, written only under the CLI's lock."""

from __future__ import annotations

import datetime
import os
import random
from typing import Any

from . import files, times

STEPS = (datetime.timedelta(minutes=1), datetime.timedelta(minutes=10), datetime.timedelta(minutes=100),
         datetime.timedelta(days=1))
JITTER = 0.2


def delay(failures: int, rng: random.Random | None = None) -> datetime.timedelta:
    """The wait after `failures` consecutive failures (1 -> about a minute, 4 and more -> a day)."""
    step = STEPS[min(failures, len(STEPS)) - 1]
    return step * (1 + JITTER * (2 * (rng or random).random() - 1))


def load(path: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The state, and a warning for each entry dropped because it made no sense (the file is
    rebuilt without it: a corrupt entry must not stop every run)."""
    raw = files.read_json_object(path)
    warnings = []
    if not raw and os.path.exists(path) and os.path.getsize(path) > 3:
        warnings.append(f"{path} could not be read; it is written anew")
    state = {}
    for name, entry in raw.items():
        if _well_formed(entry):
            state[name] = {"failures": entry["failures"], "next_attempt": entry["next_attempt"]}
        else:
            warnings.append(f"dropped the entry of {name!r} in {path}, which makes no sense ({entry!r:.80})")
    return state, warnings


def _well_formed(entry: Any) -> bool:
    if not isinstance(entry, dict) or isinstance(entry.get("failures"), bool) \
            or not isinstance(entry.get("failures"), int) or entry["failures"] < 1:
        return False
    try:
        times.parse_iso(entry.get("next_attempt"))
    except ValueError:
        return False
    return True


def save(path: str, state: dict[str, dict[str, Any]]) -> None:
    files.write_json(path, state)


def waiting_until(state: dict[str, dict[str, Any]], name: str, now: datetime.datetime) -> datetime.datetime | None:
    """When the next attempt at `name` is allowed, if that is still ahead."""
    entry = state.get(name)
    if not entry:
        return None
    try:
        next_attempt = times.parse_iso(entry["next_attempt"])
    except (KeyError, TypeError, ValueError):
        return None
    return next_attempt if next_attempt > now else None


def failed(state: dict[str, dict[str, Any]], name: str, now: datetime.datetime,
           retry_after: datetime.datetime | None = None) -> dict[str, Any]:
    """Count a failure. The next attempt is the backoff step away, or later when the CA's
    Retry-After (429/503) asks for more."""
    failures = state.get(name, {}).get("failures", 0) + 1
    next_attempt = max(now + delay(failures), retry_after or now)
    if next_attempt.microsecond:  # stored in whole seconds (times.iso): never earlier than asked
        next_attempt = next_attempt.replace(microsecond=0) + datetime.timedelta(seconds=1)
    state[name] = {"failures": failures, "next_attempt": times.iso(next_attempt)}
    return state[name]


def succeeded(state: dict[str, dict[str, Any]], name: str) -> None:
    state.pop(name, None)
