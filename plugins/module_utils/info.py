# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a lineage holds and when it is due: for certificate_info and `zerodowntime-acme status`.
Offline and read-only, except certificate_info's check_ari, which asks the CA for the renewal
window and keeps it beside the certificate."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from . import ari, lineage, reloads, renewal, times
from .connection import LETSENCRYPT, CAConnection


@dataclass(frozen=True)
class Info:
    """One certificate's state, in the terms of certificate_info's RETURN block."""

    name: str
    exists: bool
    domains: list[str]
    issuer: str | None
    serial: str | None
    not_before: str | None
    not_after: str | None
    days_left: float | None
    due: bool
    reason: str
    renew_at: str | None
    issued_at: str | None
    reload_pending: bool
    received_from: str | None = None  # a pool member's: the issuer that sent it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe(cert_dir: str, name: str, *, directory_url: str | None = None, domains: Sequence[str] | None = None,
             key_type: str | None = None, profile: str | None = None,
             renew_before: datetime.timedelta | None = None, now: datetime.datetime | None = None) -> Info:
    """The lineage `name` and its renewal decision. Without `domains`, `key_type` and `profile`,
    the certificate's own are taken, so that only time and origin decide; without
    `directory_url`, the CA that issued it (a certificate from staging or another CA is judged by
    its own CA, not Let's Encrypt's production)."""
    now = now or times.now()
    current = lineage.read(cert_dir, name)
    cert = current.cert if current else None
    directory_url = directory_url or own_directory_url(current)
    # The stored ARI window, as last fetched (this module never goes online itself).
    window = ari.load(lineage.version_folder(cert_dir, name), current.pem) \
        if current and ari.applies(current, directory_url) else None
    decision = renewal.decide(
        current,
        domains=list(domains) if domains else (cert.domains if cert else []),
        key_type=key_type or (cert.key_type if cert and cert.key_type else "ec256"),
        directory_url=directory_url,
        force=False,
        now=now,
        renew_before=renew_before,
        profile=profile if profile is not None else (current.meta.get("profile_requested") if current else None),
        ari=window,
    )
    return Info(
        name=name,
        exists=cert is not None,
        domains=cert.domains if cert else [],
        issuer=cert.issuer if cert else None,
        serial=cert.serial if cert else None,
        not_before=times.iso(cert.not_before) if cert else None,
        not_after=times.iso(cert.not_after) if cert else None,
        days_left=round((cert.not_after - now).total_seconds() / 86400, 2) if cert else None,
        due=decision.due,
        reason=decision.reason,
        renew_at=times.iso(decision.renew_at) if decision.renew_at else None,
        issued_at=_issued_at(current) if current and cert else None,
        reload_pending=name in (reloads.pending(cert_dir) or {}).get("names", []),
        received_from=_received_from(current),
    )


def inspect(cert_dir: str, name: str, connection: dict[str, Any], *, check_ari: bool = False,
            domains: Sequence[str] | None = None, key_type: str | None = None, profile: str | None = None,
            renew_before_days: int | None = None) -> dict[str, Any]:
    """certificate_info's use case: describe() the lineage, after asking the CA for its renewal
    window first when `check_ari` (the only step that goes online), with the root its chain leads
    to. `connection` holds the CAConnection options but the account key; its directory_url may be
    None for the lineage's own CA."""
    from . import names, roots
    from .spec import renew_before

    name = names.check_lineage_name(name)
    found: dict[str, Any] = {}
    if check_ari:
        from . import window  # only now: describe() alone asks no CA

        url = connection.get("directory_url") or own_directory_url(lineage.read(cert_dir, name))
        ca = CAConnection(**dict(connection, directory_url=url)).checked()
        asked = window.refresh(ca, cert_dir, name, times.now())
        if asked is not None:
            found["ari_window"] = asked.as_dict()
    state = describe(cert_dir, name, directory_url=connection.get("directory_url"), domains=domains,
                     key_type=key_type, profile=profile, renew_before=renew_before(renew_before_days))
    if state.exists:
        found["chain_roots"] = roots.of_lineage(lineage.read(cert_dir, name), connection.get("ca_bundle"))
    return dict(state.as_dict(), **found)


def own_directory_url(current: lineage.Lineage | None) -> str:
    """The directory a lineage was issued through, as stored at issuance; Let's Encrypt's
    production for one that has none (a placeholder, or files put there by hand)."""
    stored = current.meta.get("directory_url") if current else None
    return stored if isinstance(stored, str) and stored else LETSENCRYPT


def _received_from(current: lineage.Lineage | None) -> str | None:
    sender = current.meta.get("received_from") if current else None
    return sender if isinstance(sender, str) and sender else None


def _issued_at(current: lineage.Lineage) -> str | None:
    """When this collection wrote the certificate (its last renewal); a placeholder or a certificate
    put there by hand has no such time."""
    issued_at = current.meta.get("issued_at")
    return str(issued_at) if issued_at else None
