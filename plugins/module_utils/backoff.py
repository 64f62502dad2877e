# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failure backoff for the cron path: after a failed attempt at a certificate, wait about 1 min,
then 10 min, then 100 min, then a day (with jitter) before the next one, as Let's Encrypt asks.
The state is one JSON file, written only under the CLI's lock."""

from __future__ import annotations

import datetime
import json
import os
import random
from typing import Any

STEPS = (datetime.timedelta(minutes=1), datetime.timedelta(minutes=10), datetime.timedelta(minutes=100),
         datetime.timedelta(days=1))
JITTER = 0.2


def delay(failures: int, rng: random.Random | None = None) -> datetime.timedelta:
    """The wait after `failures` consecutive failures (1 -> about a minute, 4 and more -> a day)."""
    step = STEPS[min(failures, len(STEPS)) - 1]
    return step * (1 + JITTER * (2 * (rng or random).random() - 1))


def load(path: str) -> dict[str, dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(path: str, state: dict[str, dict[str, Any]]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def waiting_until(state: dict[str, dict[str, Any]], name: str, now: datetime.datetime) -> datetime.datetime | None:
    """When the next attempt at `name` is allowed, if that is still ahead."""
    entry = state.get(name)
    if not entry:
        return None
    try:
        next_attempt = datetime.datetime.fromisoformat(entry["next_attempt"])
    except (KeyError, TypeError, ValueError):
        return None
    return next_attempt if next_attempt > now else None


def failed(state: dict[str, dict[str, Any]], name: str, now: datetime.datetime) -> dict[str, Any]:
    failures = int(state.get(name, {}).get("failures", 0)) + 1
    state[name] = {"failures": failures, "next_attempt": (now + delay(failures)).isoformat()}
    return state[name]


def succeeded(state: dict[str, dict[str, Any]], name: str) -> None:
    state.pop(name, None)
