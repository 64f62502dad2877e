# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Prometheus textfile-collector file (node_exporter --collector.textfile.directory), written by
`zerodowntime-acme renew`: each certificate's expiry and last renewal, and how the run went.

Let's Encrypt sends no expiry e-mails any more; alert on, for example,
`zerodowntime_acme_certificate_expiry_timestamp_seconds - time() < 7 * 86400`.
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable, Mapping, Sequence

from . import files, times
from .info import Info

PREFIX = "zerodowntime_acme_"
HELP = {
    "certificate_expiry_timestamp_seconds": "When the certificate in place expires (notAfter), as Unix time.",
    "certificate_renewal_timestamp_seconds": "When the certificate in place was obtained (its last renewal), as Unix time.",
    "certificate_renew_at_timestamp_seconds": "When the certificate in place becomes due for renewal, as Unix time.",
    "certificate_due": "1 when the certificate is due for renewal now.",
    "certificate_failures": "Consecutive failed renewal attempts (0 after a success).",
    "last_run_timestamp_seconds": "When `zerodowntime-acme renew` last ran, as Unix time.",
    "last_run_success": "1 when the last `zerodowntime-acme renew` had no failure.",
    "reload_pending": "1 while a new certificate waits for a web server reload that has not succeeded yet.",
    "pool_members_undelivered": "On a pool's issuer: the members that do not have the certificate's current version.",
    "pool_member_current": "On a pool's issuer: 1 when the member has the current version; serial is what it has.",
    "hook_failed": "1 when a service reload or deploy hook failed in the last run (it runs again at the next).",
}


def render(infos: Iterable[Info], failures: Mapping[str, int], *, run_at: datetime.datetime, success: bool,
           reload_pending: bool = False, undelivered: Mapping[str, int] | None = None,
           members: Mapping[str, Sequence[Any]] | None = None,
           hook_failures: Mapping[str, Sequence[str]] | None = None) -> str:
    samples: dict[str, list[str]] = {metric: [] for metric in HELP}
    for one in infos:
        label = '{name="%s"}' % _escape(one.name)
        for metric, value in (
            ("certificate_expiry_timestamp_seconds", _unix(one.not_after)),
            ("certificate_renewal_timestamp_seconds", _unix(one.issued_at)),
            ("certificate_renew_at_timestamp_seconds", _unix(one.renew_at)),
            ("certificate_due", int(one.due)),
            ("certificate_failures", failures.get(one.name, 0)),
        ):
            if value is not None:
                samples[metric].append(f"{PREFIX}{metric}{label} {value}")
    samples["last_run_timestamp_seconds"].append(f"{PREFIX}last_run_timestamp_seconds {int(run_at.timestamp())}")
    samples["last_run_success"].append(f"{PREFIX}last_run_success {int(success)}")
    samples["reload_pending"].append(f"{PREFIX}reload_pending {int(reload_pending)}")
    for name, count in sorted((undelivered or {}).items()):
        samples["pool_members_undelivered"].append(f'{PREFIX}pool_members_undelivered{{name="{_escape(name)}"}} {count}')
    for name, states in sorted((members or {}).items()):
        for member in states:
            labels = f'name="{_escape(name)}",member="{_escape(member.host)}",serial="{_escape(member.serial or "")}"'
            samples["pool_member_current"].append(f"{PREFIX}pool_member_current{{{labels}}} {int(member.current)}")
    for step, names in sorted((hook_failures or {}).items()):
        labels = f'step="{_escape(step)}",names="{_escape(",".join(names))}"'
        samples["hook_failed"].append(f"{PREFIX}hook_failed{{{labels}}} 1")
    lines = []
    for metric, text in HELP.items():
        if samples[metric]:
            lines += [f"# HELP {PREFIX}{metric} {text}", f"# TYPE {PREFIX}{metric} gauge", *samples[metric]]
    return "\n".join(lines) + "\n"


def write(path: str, text: str) -> None:
    """Replace the file in one rename, so that the collector never reads half of it."""
    files.replace(path, text.encode(), 0o644)


def _unix(iso: str | None) -> int | None:
    try:
        return int(times.parse_iso(iso).timestamp()) if iso else None
    except ValueError:
        return None


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
