# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The part of issuance that talks to the CA (steps 3 to 8 of issuance.ensure), and the ARI
re-check. Loaded only then: a run with nothing due never compiles it, nor cryptography, acme or
requests.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from . import addresses, ari, keyaccess, lineage, locks, outcome, reloads, renewal, times, versions
from .connection import CAConnection
from .errors import AcmeError, CAError, ChallengeError, StorageError
from .responder import Responder
from .spec import CertificateSpec, renew_before

if TYPE_CHECKING:
    from . import client

SELF_CHECK_TIMEOUT = 10


def obtain(spec: CertificateSpec, name: str, access: keyaccess.Access, current: lineage.Lineage | None,
           decision: renewal.Decision, before: outcome.Outcome) -> outcome.Outcome:
    """A new certificate for a due `spec`, stored as the lineage's new version. `before` is the
    outcome as decided; its warnings and diff carry over. Callers hold the lineage's lock."""
    from . import certcheck, chains, keys, roots  # cryptography: not even an ARI re-check needs it

    private_key = _private_key(spec, current)
    with spec.ca.session() as session:
        # 3. Account: reuse the one of this key; create it only with terms_agreed.
        account_url = session.ensure_account(spec.account_email, spec.terms_agreed)
        # 4. Order (with the profile, when the CA offers it, and `replaces` for a renewal the CA's
        #    ARI knows), and the http-01 challenges of the authorizations the CA does not hold.
        profile, warning = _choose_profile(session, spec)
        before.warnings.extend([warning] if warning else [])
        replaces = ari.cert_id(current.pem) if current and ari.applies(current, spec.ca.directory_url) else None
        try:
            order, replaces, warning = session.new_order(spec.domains, profile=profile, replaces=replaces)
        except CAError as exc:
            if not _has_address(spec):
                raise
            asked = f"the profile '{profile}'" if profile else "its default profile"
            raise CAError(f"{exc}; the CA may not issue for IP addresses in {asked}: set profile to one that does "
                          "(Let's Encrypt: shortlived)", retry_after=exc.retry_after) from exc
        before.warnings.extend([warning] if warning else [])
        challenges = session.pending_challenges(order, "http-01", spec.domains)
        with Responder(spec.webroot, SELF_CHECK_TIMEOUT) as responder:
            for challenge in challenges:
                responder.present(challenge.token, challenge.key_authorization)
            # 5. Self-check each URL as the CA will fetch it, before spending a validation.
            for challenge in challenges if spec.self_check else []:
                warning = responder.self_check(challenge.identifier, challenge.token, challenge.key_authorization)
                before.warnings.extend([warning] if warning else [])
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
        before.warnings.extend([warning] if warning else [])
        chain = certcheck.parse_chain(fullchain_pem)
        certcheck.check(chain, private_key, spec.domains, times.now())
        fullchain_pem = certcheck.to_pem(chain)
        # The root it leads to: a pool's members trust what the issuer records here (roots.py).
        chain_roots = roots.of_chain(chain, spec.ca.ca_bundle)
        # Ask ARI about it at once, so that the next runs stay offline until its Retry-After.
        leaf_pem = versions.split_fullchain(fullchain_pem)[0]
        has_ari = session.has_ari()
        try:
            new_window = _ask_window(session, leaf_pem, times.now())
        except AcmeError as exc:
            new_window = None
            before.warnings.append(f"the new certificate's renewal window (ARI) is unknown for now: {exc}")
        before.warnings.extend(session.warnings)

    # 8. Store key, cert, chain and fullchain as one atomic swap, keeping the previous version, and
    #    note that the server must reload. From the swap on, the new certificate is live: whatever
    #    fails after it is a warning, and the result says changed, so that the reload happens.
    meta = {"directory_url": spec.ca.directory_url, "account_url": account_url, "domains": spec.domains,
            "key_type": spec.key_type, "profile_requested": spec.profile, "profile": profile, "ari": has_ari,
            "issued_at": times.iso(times.now()), "roots": chain_roots}
    written = versions.write(spec.cert_dir, name, keys.to_pem(private_key), fullchain_pem, meta,
                             access=access, combined=spec.combined)
    before.warnings.extend(written.warnings)
    try:  # the kept versions get the same access as the new one
        repaired = lineage.keep_access(spec.cert_dir, name, access, spec.combined)
    except (OSError, StorageError) as exc:
        repaired = []
        before.warnings.append(f"the previous versions of '{name}' keep their old key access: {exc}")
    before.warnings.extend(_after_swap(spec.cert_dir, name, leaf_pem, new_window))
    issued = lineage.read(spec.cert_dir, name)
    if issued is None or issued.cert is None:  # the files were just written: only a disk fault gets here
        issued = lineage.Lineage(name, written.paths, lineage.cert_info(leaf_pem), pem=leaf_pem)
    result = outcome.of(spec, name, issued, decision)
    result.changed = result.renewed = True
    result.repaired = repaired
    # By the same rule as the next run (the CA's window, never later than the lifetime fraction).
    after = renewal.decide(issued, domains=spec.domains, key_type=spec.key_type, directory_url=spec.ca.directory_url,
                           force=False, now=times.now(), renew_before=renew_before(spec.renew_before_days),
                           profile=spec.profile, ari=new_window)
    result.renew_at = times.iso(after.renew_at) if after.renew_at else None
    result.warnings = before.warnings
    result.diff = before.diff
    result.diff["after"]["not_after"] = result.not_after
    result.replaces = replaces
    return result


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
