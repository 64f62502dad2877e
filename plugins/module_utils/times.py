# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time in one place: aware UTC moments, their text form (RFC 3339) both ways, and Retry-After.

Every timestamp the engine writes or reads (meta.json, ari.json, backoff.json, results) goes
through here, and every Retry-After a CA sends is clamped here, so that no odd value from a state
file or a server can crash a run or make it sleep for a year.
"""

from __future__ import annotations

import datetime
import re

UTC = datetime.timezone.utc
# A CA's Retry-After is honoured between these bounds: below one second it would hammer the CA,
# beyond a day it is more likely a broken server than a plan.
MIN_RETRY_AFTER = datetime.timedelta(seconds=1)
MAX_RETRY_AFTER = datetime.timedelta(days=1)
# The moments any file or peer may name. Outside them a date is garbage, and near datetime's own
# limits adding a lifetime or converting a zone would overflow.
EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime.datetime(9000, 1, 1, tzinfo=UTC)

_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", re.ASCII | re.I)


def now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def iso(moment: datetime.datetime) -> str:
    """'2026-11-30T12:00:00Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: object) -> datetime.datetime:
    """A moment the engine wrote (iso(), or isoformat() of an aware time). ValueError for anything
    else, a naive time included: state files are input too."""
    if not isinstance(text, str) or len(text) > 64:
        raise ValueError(f"{text!r:.80} is not a timestamp")
    moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return _in_range(moment, text)


def parse_rfc3339(text: object) -> datetime.datetime:
    """A CA's timestamp (RFC 3339, any number of fractional digits: Pebble sends nanoseconds).
    ValueError for anything else."""
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not an RFC 3339 time")
    base, fraction, zone = match.groups()
    moment = datetime.datetime.fromisoformat(base + ("+00:00" if zone.upper() == "Z" else zone))
    return _in_range(moment.replace(microsecond=int((fraction or "0")[:6].ljust(6, "0"))), text)


def _in_range(moment: datetime.datetime, text: object) -> datetime.datetime:
    """`moment` in UTC, or ValueError when it lies outside [EARLIEST, LATEST) (year 1 at +14:00
    cannot even be converted to UTC: OverflowError, which is one more bad date)."""
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"{text!r} is out of range (before 1970 or after 9000)")
    return moment


def cert_time(cert: object, attribute: str) -> datetime.datetime:
    """A certificate's not_valid_before/not_valid_after as an aware UTC time: cryptography >= 42 has
    the *_utc forms; older releases (Debian 12 ships 38) only naive UTC."""
    aware = getattr(cert, attribute + "_utc", None)
    if isinstance(aware, datetime.datetime):
        return aware
    naive: datetime.datetime = getattr(cert, attribute)
    return naive.replace(tzinfo=UTC)


def retry_after(value: str | None, default: datetime.timedelta | None,
                at: datetime.datetime | None = None) -> datetime.timedelta | None:
    """A Retry-After header (seconds, or an HTTP date) as a wait, clamped to
    [MIN_RETRY_AFTER, MAX_RETRY_AFTER]. Absent, unreadable, negative or non-ASCII values count as
    absent: `default` (which may be None)."""
    wait = _parse_retry_after((value or "").strip(), at or now())
    if wait is None:
        return default
    return min(max(wait, MIN_RETRY_AFTER), MAX_RETRY_AFTER)


def _parse_retry_after(value: str, at: datetime.datetime) -> datetime.timedelta | None:
    if not value or not value.isascii():
        return None
    if value.isdigit():
        digits = value.lstrip("0") or "0"
        # Clamped before a timedelta is built: a 30-digit number would overflow it.
        return MAX_RETRY_AFTER if len(digits) > 9 else datetime.timedelta(seconds=int(digits))
    import email.utils  # an HTTP date: rare, and the module is slow to import

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(datetime.timedelta(0), moment - at)
