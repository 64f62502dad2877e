# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run did to one certificate (Outcome), in the terms of the modules' RETURN blocks."""

from __future__ import annotations

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


def of(spec: CertificateSpec, name: str, current: lineage.Lineage | None, decision: renewal.Decision) -> Outcome:
    """The outcome of `decision` about `current`, before anything is done about it."""
    cert = current.cert if current else None
    before: dict[str, Any] = {"domains": cert.domains, "not_after": times.iso(cert.not_after)} if cert else {}
    after: dict[str, Any] = dict(before)
    if decision.due:
        after = {"domains": list(spec.domains), "not_after": "(a new certificate)"}
    return Outcome(
        changed=decision.due,
        reason=decision.reason,
        name=name,
        domains=cert.domains if cert else [],
        paths=dict(lineage.paths_for(spec.cert_dir, name).as_dict(),
                   **({"combined": os.path.join(spec.cert_dir, name, lineage.COMBINED)} if spec.combined else {})),
        not_before=times.iso(cert.not_before) if cert else None,
        not_after=times.iso(cert.not_after) if cert else None,
        serial=cert.serial if cert else None,
        renew_at=times.iso(decision.renew_at) if decision.renew_at else None,
        diff={"before": before, "after": after},
    )
