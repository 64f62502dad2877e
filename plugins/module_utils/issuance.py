# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ensure(spec) -> Outcome: the one orchestration that every front uses.

Read it top to bottom: check the input, decide, and only when due talk to the CA (account, order,
challenges, finalize), check what it sent, and store the new files as one atomic swap. Those steps
(3 to 8) are in ordering.py, which a run with nothing due never loads: a module runs from a zip,
where Python compiles each file it imports (twice: zipimport's find_spec compiles it too, up to
3.13 at least), so the common no-op pays for every line it imports. For the same reason the
records a no-op builds (lineage.Lineage, renewal.Decision, ...) are NamedTuples: inside an Ansible
module, defining a dataclass takes about 0.5 ms, a NamedTuple a tenth of that.
"""

from __future__ import annotations

import datetime

from . import ari, keyaccess, lineage, locks, renewal, times
from .connection import CAConnection
from .errors import AcmeError, StorageError
from .outcome import Outcome, of as outcome_of, renewed as renewed_outcome
from .spec import CertificateSpec, renew_before, validated


class _NeedsTheCA(Exception):
    """A local-only ensure reached the first step that asks the CA."""


def ensure(spec: CertificateSpec, *, force: bool = False, check_mode: bool = False,
           now: datetime.datetime | None = None) -> Outcome:
    """Make the lineage hold a valid certificate for spec.domains; renew only when due, or now
    with `force` (for this run only: it is never part of a stored spec)."""
    return _checked_and_locked(spec, force, check_mode, now, local_only=False)


def ensure_locally(spec: CertificateSpec, *, force: bool = False,
                   now: datetime.datetime | None = None) -> Outcome | None:
    """ensure() for a certificate that needs nothing from the CA: its outcome (repairs included),
    or None when it is due or its renewal window (ARI) must be asked again; then nothing was written
    and ensure() does the rest. The CLI settles the first kind in one thread, without a pool."""
    try:
        return _checked_and_locked(spec, force, False, now, local_only=True)
    except _NeedsTheCA:
        return None


def _checked_and_locked(spec: CertificateSpec, force: bool, check_mode: bool, now: datetime.datetime | None,
                        local_only: bool) -> Outcome:
    # 1. Check the input: every mistake is reported before anything is ordered or written.
    spec = validated(spec)
    access = keyaccess.resolve(spec.key_owner, spec.key_group, spec.key_mode)  # this host's users
    now = now or times.now()
    if spec.issuer:
        if check_mode:
            return _member(spec, access, check_mode)
        with locks.holding(spec.cert_dir, str(spec.name)):
            return _member(spec, access, check_mode)
    if check_mode:
        return _ensure(spec, access, force, check_mode, now)
    # Every writer of a lineage (a play, cron's renew, placeholder, receive) holds its lock while
    # it decides and writes.
    lineage.check_writable(spec.cert_dir, str(spec.name))
    with locks.holding(spec.cert_dir, str(spec.name)):
        return _ensure(spec, access, force, check_mode, now, local_only)


def _ensure(spec: CertificateSpec, access: keyaccess.Access, force: bool, check_mode: bool,
            now: datetime.datetime, local_only: bool = False) -> Outcome:
    name = str(spec.name)  # set by validated()

    # 2. Read what is on disk and decide. Not due: return now, with no network and no ACME import,
    #    unless the CA's ARI window must be asked again (missing, or past its Retry-After).
    current = lineage.read(spec.cert_dir, name)
    window, ari_warning = _ari_window(spec.ca, spec.cert_dir, name, current, now, offline=check_mode,
                                      local_only=local_only)
    decision = _decide(spec, current, window, force, now)
    warnings = [ari_warning] if ari_warning else []
    if not decision.due:
        outcome = outcome_of(spec, name, current, decision, warnings)
        _keep_access(spec, name, access, outcome, check_mode)
        return outcome
    if local_only:
        raise _NeedsTheCA()
    lineage.check_writable(spec.cert_dir, name)  # before anything is ordered, in check mode too
    if check_mode:
        return outcome_of(spec, name, current, decision, warnings)
    from . import ordering  # only now: see ordering.py

    # 3-8. Account, order, challenges, finalize, check, store (ordering.py).
    issued = ordering.obtain(spec, name, access, current)
    # The next renewal, by the same rule as the next run (the CA's window, never later than the
    # lifetime fraction).
    after = _decide(spec, issued.lineage, issued.window, False, times.now())
    return renewed_outcome(spec, name, current, issued.lineage, decision.reason, after.renew_at, issued.replaces,
                           issued.repaired, warnings + issued.warnings)


def _decide(spec: CertificateSpec, current: lineage.Lineage | None, window: ari.Window | None, force: bool,
            now: datetime.datetime) -> renewal.Decision:
    return renewal.decide(current, domains=spec.domains, key_type=spec.key_type, directory_url=spec.ca.directory_url,
                          force=force, now=now, renew_before=renew_before(spec.renew_before_days),
                          profile=spec.profile, ari=window)


def _member(spec: CertificateSpec, access: keyaccess.Access, check_mode: bool) -> Outcome:
    """A pool member's certificate: never ordered here, not even when due or forced; the issuer
    sends it. Its key files' access is kept, as for any certificate."""
    name = str(spec.name)
    current = lineage.read(spec.cert_dir, name)
    outcome = outcome_of(spec, name, current, renewal.Decision(False, "", None), [])
    outcome.reason = (f"issued on {spec.issuer}, which sends it to this host (a pool member never orders it)"
                      + ("" if current and current.cert else "; not received yet"))
    _keep_access(spec, name, access, outcome, check_mode)
    return outcome


def _keep_access(spec: CertificateSpec, name: str, access: keyaccess.Access, outcome: Outcome,
                 check_mode: bool) -> None:
    """Not renewed, but the key's owner, group or mode drifted, or combined changed: put them right."""
    try:
        outcome.repaired = lineage.keep_access(spec.cert_dir, name, access, spec.combined, dry_run=check_mode)
    except OSError as exc:
        raise StorageError(f"cannot give the key files of '{name}' their owner, group and mode: {exc}; "
                           "run as root, or fix key_owner and key_group") from exc
    if outcome.repaired:
        outcome.changed = True
        outcome.reason += f"; files put right: {'; '.join(outcome.repaired)}"


def _ari_window(ca: CAConnection, cert_dir: str, name: str, current: lineage.Lineage | None,
                now: datetime.datetime, offline: bool, local_only: bool) -> tuple[ari.Window | None, str | None]:
    """The stored ARI window of the current certificate; asked again when missing or past its
    Retry-After, unless offline (check mode). A CA that cannot answer leaves the old window."""
    if current is None or not ari.applies(current, ca.directory_url):
        return None, None
    stored = ari.load(lineage.version_folder(cert_dir, name), current.pem)
    if offline or (stored is not None and now < stored.retry_after):
        return stored, None
    if local_only:
        raise _NeedsTheCA()
    from . import window  # only now: a run with nothing due asks no CA

    try:
        return window.refresh(ca, cert_dir, name, now), None
    except AcmeError as exc:
        return stored, f"could not refresh the renewal window (ARI); deciding without the CA's news: {exc}"
