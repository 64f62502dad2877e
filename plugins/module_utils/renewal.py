# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When to renew. Pure functions of what is on disk, what is asked for, and the time: no I/O."""

from __future__ import annotations

import datetime
from typing import NamedTuple, Sequence

from .ari import Window
from .lineage import Lineage

# Renew when a third of the lifetime is left, or half for short-lived certificates (< 10 days), as
# Let's Encrypt advises: a fixed "N days before expiry" would renew a 6-day certificate every run.
SHORT_LIFETIME = datetime.timedelta(days=10)


# A NamedTuple, not a dataclass: every run builds this class, and a NamedTuple costs a tenth as much
# to define (issuance.py says why that counts).
class Decision(NamedTuple):
    """Whether to renew now, why (one sentence), and when the current certificate becomes due."""

    due: bool
    reason: str
    renew_at: datetime.datetime | None


def renew_at(not_before: datetime.datetime, not_after: datetime.datetime,
             renew_before: datetime.timedelta | None = None) -> datetime.datetime:
    """The moment a certificate becomes due: `renew_before` its expiry when given (the user's fixed
    number of days), otherwise by the lifetime fraction rule."""
    if renew_before is not None:
        return not_after - renew_before
    lifetime = not_after - not_before
    left_when_due = lifetime / 2 if lifetime < SHORT_LIFETIME else lifetime / 3
    return not_after - left_when_due


def decide(
    lineage: Lineage | None,
    *,
    domains: Sequence[str],
    key_type: str,
    directory_url: str,
    force: bool,
    now: datetime.datetime,
    renew_before: datetime.timedelta | None = None,
    profile: str | None = None,
    ari: Window | None = None,
) -> Decision:
    """Decide whether lineage should be (re)issued for `domains` with `key_type` at `now`.

    The CA's ARI window, when known, replaces the lifetime fraction (renew_before_days can still
    make it due earlier)."""
    if lineage is None:
        return Decision(True, "no certificate exists yet", None)
    cert = lineage.cert
    if cert is None:
        return Decision(True, f"the current certificate cannot be used: {lineage.problem}", None)
    due_at = renew_at(cert.not_before, cert.not_after, renew_before)
    if force:
        return Decision(True, "renewal forced (force=true)", due_at)
    issued_by = lineage.meta.get("directory_url")
    if cert.self_signed or issued_by != directory_url:
        origin = "it is self-signed (a placeholder?)" if cert.self_signed else (
            f"it came from {issued_by}" if issued_by else "it was not issued by this collection")
        return Decision(True, f"the current certificate was not issued through {directory_url}: {origin}", None)
    names_change = describe_name_change(cert.domains, domains)
    if names_change:
        return Decision(True, f"the names changed: {names_change}", None)
    if cert.key_type != key_type:
        return Decision(True, f"the key type changed from {cert.key_type or 'an unsupported type'} to {key_type}", None)
    # The profile asked for, not the one granted: a CA without the profile must not cause a renewal on every run.
    if lineage.meta.get("profile_requested") != profile:
        return Decision(True, f"the profile changed from {lineage.meta.get('profile_requested') or 'the default'} "
                              f"to {profile or 'the default'}", None)
    revoked = lineage.meta.get("revoked")
    if isinstance(revoked, dict):
        return Decision(True, f"the certificate was revoked ({revoked.get('reason')}) on {revoked.get('at')}", None)
    if now >= cert.not_after:
        return Decision(True, f"the certificate expired on {_when(cert.not_after)}", due_at)
    lifetime = cert.not_after - cert.not_before
    if ari is not None:
        return _decide_by_ari(ari, cert.not_after - now, lifetime, due_at, renew_before is not None, now)
    if renew_before is not None:
        rule = f"{_span(renew_before)} before expiry (renew_before_days)"
        if now >= due_at:
            return Decision(True, f"less than {_span(renew_before)} are left (renew_before_days; expires "
                                  f"{_when(cert.not_after)})", due_at)
    else:
        fraction = "half" if lifetime < SHORT_LIFETIME else "a third"
        rule = f"when {fraction} is left"
        if now >= due_at:
            return Decision(
                True,
                f"less than {fraction} of its {_span(lifetime, adjective=True)} lifetime is left "
                f"(expires {_when(cert.not_after)})",
                due_at,
            )
    return Decision(
        False,
        f"not due: {_span(cert.not_after - now)} of its {_span(lifetime, adjective=True)} lifetime left; "
        f"due on {_when(due_at)}, {rule}",
        due_at,
    )


def _decide_by_ari(ari: Window, left: datetime.timedelta, lifetime: datetime.timedelta,
                   rule_due_at: datetime.datetime, fixed_days: bool, now: datetime.datetime) -> Decision:
    """The point chosen in the CA's window decides, unless the usual rule (the lifetime fraction,
    or renew_before_days when set) comes earlier: a window that a broken or hostile CA put late
    must never postpone a renewal past it."""
    window = f"ARI: {_when(ari.start)} to {_when(ari.end)}"
    if ari.chosen <= rule_due_at:
        if now >= ari.chosen:
            return Decision(True, f"the CA's suggested renewal window (ARI) is open: {window[5:]}", ari.chosen)
        return Decision(False, f"not due: {_span(left)} of its {_span(lifetime, adjective=True)} lifetime left; due "
                               f"on {_when(ari.chosen)}, inside the renewal window the CA suggests ({window})",
                        ari.chosen)
    fraction = "half" if lifetime < SHORT_LIFETIME else "a third"
    earlier = f"earlier than the point chosen in the CA's renewal window ({window})"
    if now >= rule_due_at:
        reached = "renew_before_days is reached" if fixed_days else f"less than {fraction} of its lifetime is left"
        return Decision(True, f"{reached}, {earlier}", rule_due_at)
    rule = "renew_before_days" if fixed_days else f"when {fraction} is left"
    return Decision(False, f"not due: {_span(left)} of its {_span(lifetime, adjective=True)} lifetime left; due on "
                           f"{_when(rule_due_at)} ({rule}), {earlier}", rule_due_at)


def describe_name_change(current: Sequence[str], wanted: Sequence[str]) -> str:
    """'adds x; removes y' between two name sets (order and case ignored), '' when equal."""
    have = {n.lower() for n in current}
    want = {n.lower() for n in wanted}
    parts = []
    if want - have:
        parts.append("adds " + ", ".join(sorted(want - have)))
    if have - want:
        parts.append("removes " + ", ".join(sorted(have - want)))
    return "; ".join(parts)


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _span(delta: datetime.timedelta, adjective: bool = False) -> str:
    hours = delta.total_seconds() / 3600
    # Hours below ten days: a 160-hour certificate is not "7 days".
    amount, unit = (round(hours), "hour") if hours < 240 else (round(hours / 24), "day")
    if adjective:
        return f"{amount}-{unit}"
    return f"{amount} {unit}" + ("" if amount == 1 else "s")
