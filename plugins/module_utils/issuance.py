# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ensure(spec) -> Outcome: the one orchestration that every front uses.

Read it top to bottom: check the input, decide, and only when due talk to the CA (account, order,
challenges, finalize), check what it sent, and store the new files as one atomic swap.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import addresses, ari, keyaccess, lineage, locks, reloads, renewal, times, webroot
from .connection import CAConnection
from .errors import AcmeError, CAError, ChallengeError, StorageError
from .spec import CertificateSpec, renew_before, validated

if TYPE_CHECKING:
    from . import client

SELF_CHECK_TIMEOUT = 10


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
    decision = renewal.decide(current, domains=spec.domains, key_type=spec.key_type,
                              directory_url=spec.ca.directory_url, force=force, now=now,
                              renew_before=renew_before(spec.renew_before_days), profile=spec.profile, ari=window)
    outcome = _outcome(spec, name, current, decision)
    outcome.warnings.extend([ari_warning] if ari_warning else [])
    if not decision.due:
        _keep_access(spec, name, access, outcome, check_mode)
        return outcome
    if local_only:
        raise _NeedsTheCA()
    lineage.check_writable(spec.cert_dir, name)  # before anything is ordered, in check mode too
    if check_mode:
        return outcome

    # Only now: a run with nothing due never loads cryptography, acme or requests.
    from . import certcheck, chains, keys

    private_key = _private_key(spec, current)
    with spec.ca.session() as session:
        # 3. Account: reuse the one of this key; create it only with terms_agreed.
        account_url = session.ensure_account(spec.account_email, spec.terms_agreed)
        # 4. Order (with the profile, when the CA offers it, and `replaces` for a renewal the CA's
        #    ARI knows), and the http-01 challenges of the authorizations the CA does not hold.
        profile, warning = _choose_profile(session, spec)
        outcome.warnings.extend([warning] if warning else [])
        replaces = ari.cert_id(current.pem) if current and ari.applies(current, spec.ca.directory_url) else None
        try:
            order, replaces, warning = session.new_order(spec.domains, profile=profile, replaces=replaces)
        except CAError as exc:
            if not _has_address(spec):
                raise
            asked = f"the profile '{profile}'" if profile else "its default profile"
            raise CAError(f"{exc}; the CA may not issue for IP addresses in {asked}: set profile to one that does "
                          "(Let's Encrypt: shortlived)", retry_after=exc.retry_after) from exc
        outcome.warnings.extend([warning] if warning else [])
        challenges = session.pending_challenges(order, "http-01", spec.domains)
        with webroot.Responder(spec.webroot, SELF_CHECK_TIMEOUT) as responder:
            for challenge in challenges:
                responder.present(challenge.token, challenge.key_authorization)
            # 5. Self-check each URL as the CA will fetch it, before spending a validation.
            for challenge in challenges if spec.self_check else []:
                warning = responder.self_check(challenge.identifier, challenge.token, challenge.key_authorization)
                outcome.warnings.extend([warning] if warning else [])
            # 6. Ask the CA to validate, and wait (Retry-After, the run's deadline).
            for challenge in challenges:
                session.answer(challenge)
            for challenge in challenges:
                try:
                    session.wait_valid(challenge)
                except ChallengeError as exc:
                    raise ChallengeError(f"{exc}; {responder.advice(challenge.identifier, challenge.token)}") from exc
        # 7. Finalize with the CSR and download the chain the CA returns (or the preferred one of its
        #    alternates). Check it against our key, our names and itself before anything is written.
        offered = session.finalize(order, keys.make_csr(private_key, spec.domains), bool(spec.preferred_chain))
        fullchain_pem, warning = chains.pick(offered, spec.preferred_chain)
        outcome.warnings.extend([warning] if warning else [])
        chain = certcheck.parse_chain(fullchain_pem)
        certcheck.check(chain, private_key, spec.domains, times.now())
        fullchain_pem = certcheck.to_pem(chain)
        # Ask ARI about it at once, so that the next runs stay offline until its Retry-After.
        leaf_pem = lineage.split_fullchain(fullchain_pem)[0]
        has_ari = session.has_ari()
        try:
            new_window = _ask_window(session, leaf_pem, times.now())
        except AcmeError as exc:
            new_window = None
            outcome.warnings.append(f"the new certificate's renewal window (ARI) is unknown for now: {exc}")
        outcome.warnings.extend(session.warnings)

    # 8. Store key, cert, chain and fullchain as one atomic swap, keeping the previous version, and
    #    note that the server must reload. From the swap on, the new certificate is live: whatever
    #    fails after it is a warning, and the result says changed, so that the reload happens.
    meta = {"directory_url": spec.ca.directory_url, "account_url": account_url, "domains": spec.domains,
            "key_type": spec.key_type, "profile_requested": spec.profile, "profile": profile, "ari": has_ari,
            "issued_at": times.iso(times.now())}
    written = lineage.write(spec.cert_dir, name, keys.to_pem(private_key), fullchain_pem, meta,
                            access=access, combined=spec.combined)
    outcome.warnings.extend(written.warnings)
    try:  # the kept versions get the same access as the new one
        repaired = lineage.keep_access(spec.cert_dir, name, access, spec.combined)
    except OSError as exc:
        repaired = []
        outcome.warnings.append(f"the previous versions of '{name}' keep their old key access: {exc}")
    outcome.warnings.extend(_after_swap(spec.cert_dir, name, leaf_pem, new_window))
    issued = lineage.read(spec.cert_dir, name)
    if issued is None or issued.cert is None:  # the files were just written: only a disk fault gets here
        issued = lineage.Lineage(name, written.paths, lineage.cert_info(leaf_pem), pem=leaf_pem)
    result = _outcome(spec, name, issued, decision)
    result.changed = result.renewed = True
    result.repaired = repaired
    # By the same rule as the next run (the CA's window, never later than the lifetime fraction).
    after = renewal.decide(issued, domains=spec.domains, key_type=spec.key_type, directory_url=spec.ca.directory_url,
                           force=False, now=times.now(), renew_before=renew_before(spec.renew_before_days),
                           profile=spec.profile, ari=new_window)
    result.renew_at = times.iso(after.renew_at) if after.renew_at else None
    result.warnings = outcome.warnings
    result.diff = outcome.diff
    result.diff["after"]["not_after"] = result.not_after
    result.replaces = replaces
    return result


def _member(spec: CertificateSpec, access: keyaccess.Access, check_mode: bool) -> Outcome:
    """A pool member's certificate: never ordered here, not even when due or forced; the issuer
    sends it. Its key files' access is kept, as for any certificate."""
    name = str(spec.name)
    current = lineage.read(spec.cert_dir, name)
    outcome = _outcome(spec, name, current, renewal.Decision(False, "", None))
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


def _after_swap(cert_dir: str, name: str, leaf_pem: bytes, window: ari.Window | None) -> list[str]:
    """The state that goes with a new version: the reload-pending marker and the ARI window."""
    warnings = []
    try:
        reloads.mark(cert_dir, name, times.now())
    except OSError as exc:
        warnings.append(f"the new certificate for '{name}' is in place, but the reload-pending note could not be "
                        f"written ({exc}); reload the web server yourself")
    try:
        if window is not None:
            ari.save(lineage.version_folder(cert_dir, name), leaf_pem, window)
    except OSError as exc:
        warnings.append(f"the renewal window (ARI) of the new certificate could not be stored ({exc}); it is "
                        "asked again on the next run")
    return warnings


def refresh_ari(ca: CAConnection, cert_dir: str, name: str, now: datetime.datetime) -> ari.Window | None:
    """Ask the CA for the current certificate's renewal window and store it (certificate_info's
    check_ari). None when there is no certificate or the CA offers no ARI."""
    current = lineage.read(cert_dir, name)
    if current is None or current.cert is None:
        return None
    cert_pem, folder = current.pem, lineage.version_folder(cert_dir, name)
    with ca.session(signed=False) as session:
        window = _ask_window(session, cert_pem, now, previous=ari.load(folder, cert_pem))
    if window is not None:
        with locks.holding(cert_dir, name):
            ari.save(folder, cert_pem, window)
    return window


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
    try:
        return refresh_ari(ca, cert_dir, name, now), None
    except AcmeError as exc:
        return stored, f"could not refresh the renewal window (ARI); deciding without the CA's news: {exc}"


def _ask_window(session: "client.Session", cert_pem: bytes, now: datetime.datetime,
                previous: ari.Window | None = None) -> ari.Window | None:
    """The CA's renewal window for `cert_pem`, with a point chosen in it; None when the CA offers
    no ARI or the certificate has no ID for it. Raises CAError when the CA cannot answer."""
    cert_id = ari.cert_id(cert_pem)
    if not session.has_ari() or cert_id is None:
        return None
    start, end, retry_after = session.renewal_info(cert_id)
    return ari.window(start, end, retry_after, now, previous)


def _choose_profile(session: "client.Session", spec: CertificateSpec) -> tuple[str | None, str | None]:
    from . import client

    return client.choose_profile(session.profiles(), spec.profile, spec.profile_required, spec.ca.directory_url,
                                 has_addresses=_has_address(spec))


def _has_address(spec: CertificateSpec) -> bool:
    return any(addresses.ip(domain) for domain in spec.domains)


def _private_key(spec: CertificateSpec, current: lineage.Lineage | None) -> Any:
    """The existing key when reuse_key holds and it still fits; otherwise a new one."""
    from . import keys

    if spec.reuse_key and current is not None and current.cert is not None and current.cert.key_type == spec.key_type:
        try:
            with open(current.paths.privkey, "rb") as f:
                return keys.load_pem(f.read())
        except (OSError, ValueError, TypeError):
            pass  # unreadable or broken: a new key is the safe answer
    return keys.generate(spec.key_type)


def _outcome(spec: CertificateSpec, name: str, current: lineage.Lineage | None,
             decision: renewal.Decision) -> Outcome:
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
