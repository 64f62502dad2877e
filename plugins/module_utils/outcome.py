# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run did to one certificate (Outcome), in the terms of the modules' RETURN blocks."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import Any

from . import lineage, renewal, times
from .spec import CertificateSpec


@dataclass
class Outcome:
    """What happened, in the terms of the module's RETURN block."""

    changed: bool
    reason: str
    name: str
    domains: list[str]
    paths: dict[str, str]
    not_before: str | None = None
    not_after: str | None = None
    serial: str | None = None
    renew_at: str | None = None
    warnings: list[str] = field(default_factory=list)
    diff: dict[str, dict[str, Any]] = field(default_factory=dict)
    replaces: str | None = None
    renewed: bool = False  # a new version was written (changed may also mean only `repaired`)
    repaired: list[str] = field(default_factory=list)  # key files whose owner, group or mode were put right

    def returned(self) -> dict[str, Any]:
        """The certificate module's return values (one element of the certificates module's list)."""
        result: dict[str, Any] = dict(
            changed=self.changed, reason=self.reason, name=self.name, domains=self.domains, paths=self.paths,
            not_before=self.not_before, not_after=self.not_after, serial=self.serial, renew_at=self.renew_at)
        if self.replaces:
            result["replaces"] = self.replaces
        if self.repaired:
            result["repaired"] = self.repaired
        return result


def of(spec: CertificateSpec, name: str, current: lineage.Lineage | None, decision: renewal.Decision,
       warnings: list[str]) -> Outcome:
    """The outcome of `decision` about `current`, before anything is done about it."""
    cert = current.cert if current else None
    before = _summary(cert)
    after = {"domains": list(spec.domains), "not_after": "(a new certificate)"} if decision.due else dict(before)
    return _outcome(spec, name, cert, changed=decision.due, reason=decision.reason, renew_at=decision.renew_at,
                    warnings=warnings, diff={"before": before, "after": after})


def renewed(spec: CertificateSpec, name: str, previous: lineage.Lineage | None, issued: lineage.Lineage,
            reason: str, renew_at: datetime.datetime | None, replaces: str | None, repaired: list[str],
            warnings: list[str]) -> Outcome:
    """The outcome of a new version put in place for `reason`."""
    cert = issued.cert
    result = _outcome(spec, name, cert, changed=True, reason=reason, renew_at=renew_at, warnings=warnings,
                      diff={"before": _summary(previous.cert if previous else None),
                            "after": {"domains": list(spec.domains), "not_after": _summary(cert).get("not_after")}})
    result.renewed = True
    result.replaces = replaces
    result.repaired = repaired
    return result


def _summary(cert: lineage.CertInfo | None) -> dict[str, Any]:
    return {"domains": cert.domains, "not_after": times.iso(cert.not_after)} if cert else {}


def _outcome(spec: CertificateSpec, name: str, cert: lineage.CertInfo | None, *, changed: bool, reason: str,
             renew_at: datetime.datetime | None, warnings: list[str], diff: dict[str, dict[str, Any]]) -> Outcome:
    return Outcome(
        changed=changed,
        reason=reason,
        name=name,
        domains=cert.domains if cert else [],
        paths=dict(lineage.paths_for(spec.cert_dir, name).as_dict(),
                   **({"combined": os.path.join(spec.cert_dir, name, lineage.COMBINED)} if spec.combined else {})),
        not_before=times.iso(cert.not_before) if cert else None,
        not_after=times.iso(cert.not_after) if cert else None,
        serial=cert.serial if cert else None,
        renew_at=times.iso(renew_at) if renew_at else None,
        warnings=warnings,
        diff=diff,
    )
