# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The part of issuance that talks to the CA (steps 3 to 8 of issuance.ensure). Loaded only
then: a run with nothing due never compiles it, nor cryptography, acme or requests.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import ari, carules, keyaccess, lineage, responders, times, versions, window
from .errors import AcmeError, CAError, ChallengeError
from .spec import CertificateSpec

SELF_CHECK_TIMEOUT = 10


class Issued(NamedTuple):
    """What one order put in place: the lineage as read back, the CA's window for it, the
    certificate the order replaced (ARI), and what happened on the way."""

    lineage: lineage.Lineage
    window: ari.Window | None
    replaces: str | None
    repaired: list[str]
    warnings: list[str]


def obtain(spec: CertificateSpec, name: str, access: keyaccess.Access, current: lineage.Lineage | None) -> Issued:
    """A new certificate for a due `spec`, stored as the lineage's new version. From the swap on,
    the new certificate is live: whatever fails after it is a warning of the record, so that the
    reload happens. Callers hold the lineage's lock."""
    from . import certcheck, chains, keys, roots  # cryptography: not even an ARI re-check needs it

    private_key = _private_key(spec, current)
    warnings: list[str] = []
    # The responder of the certificate's challenge type (responders.py) answers the challenges.
    responder = responders.for_certificate(spec, SELF_CHECK_TIMEOUT)
    try:
        with responder, spec.ca.session() as session:
            # 3. Before the CA hears of this certificate: can its challenges be presented at all? (A
            #    dns-01 server that refuses the update fails here, before any order.)
            responder.prepare(spec.domains)
            # Account: reuse the one of this key; create it only with terms_agreed.
            account_url = session.ensure_account(spec.account_email, spec.terms_agreed)
            # 4. Order (with the profile, when the CA offers it, and `replaces` for a renewal the
            #    CA's ARI knows); 5-6. present, self-check and have validated the challenges of the
            #    authorizations the CA does not hold already.
            order, profile, replaces = _order(session, spec, current, warnings)
            _validate(session, responder, spec.domains, order, warnings)
            # 7. Finalize with the CSR and download the chain the CA returns (or the preferred one of its
            #    alternates). Check it against our key, our names and itself before anything is written.
            offered = session.finalize(order, keys.make_csr(private_key, spec.domains), bool(spec.preferred_chain))
            fullchain_pem, warning = chains.pick(offered, spec.preferred_chain)
            warnings.extend([warning] if warning else [])
            chain = certcheck.parse_chain(fullchain_pem)
            certcheck.check(chain, private_key, spec.domains, times.now())
            fullchain_pem = certcheck.to_pem(chain)
            # The root it leads to: a pool's members trust what the issuer records here (roots.py).
            chain_roots = roots.of_chain(chain, spec.ca.ca_bundle)
            # Ask ARI about it at once, so that the next runs stay offline until its Retry-After.
            leaf_pem = versions.split_fullchain(fullchain_pem)[0]
            has_ari = session.has_ari()
            try:
                new_window = window.ask(session, leaf_pem, times.now())
            except AcmeError as exc:
                new_window = None
                warnings.append(f"the new certificate's renewal window (ARI) is unknown for now: {exc}")
            warnings.extend(session.warnings)
    except AcmeError as exc:
        if responder.warnings:  # what its clean-up left behind belongs in the message
            exc.args = (f"{exc}; {'; '.join(responder.warnings)}",)
        raise
    warnings.extend(responder.warnings)

    # 8. Store key, cert, chain and fullchain as one atomic swap, keeping the previous version, and
    #    note that the server must reload.
    meta = {"directory_url": spec.ca.directory_url, "account_url": account_url, "domains": spec.domains,
            "key_type": spec.key_type, "profile_requested": spec.profile, "profile": profile, "ari": has_ari,
            "issued_at": times.iso(times.now()), "roots": chain_roots}
    stored = versions.store(spec.cert_dir, name, keys.to_pem(private_key), fullchain_pem, meta, access, spec.combined)
    warnings.extend(stored.warnings)
    warnings.extend(_keep_window(spec.cert_dir, name, leaf_pem, new_window))
    issued = lineage.read(spec.cert_dir, name)
    if issued is None or issued.cert is None:  # the files were just written: only a disk fault gets here
        issued = lineage.Lineage(name, stored.written.paths, lineage.cert_info(leaf_pem), pem=leaf_pem)
    return Issued(issued, new_window, replaces, stored.repaired, warnings)


def _order(session: Any, spec: CertificateSpec, current: lineage.Lineage | None,
           warnings: list[str]) -> tuple[Any, str | None, str | None]:
    """The order, the profile it asked for and the certificate it replaces."""
    profile, warning = carules.choose_profile(session.profiles(), spec.profile, spec.profile_required,
                                              spec.ca.directory_url, carules.has_addresses(spec.domains))
    warnings.extend([warning] if warning else [])
    replaces = ari.cert_id(current.pem) if current and ari.applies(current, spec.ca.directory_url) else None
    try:
        order, replaces, warning = session.new_order(spec.domains, profile=profile, replaces=replaces)
    except CAError as exc:
        if not carules.has_addresses(spec.domains):
            raise
        raise CAError(f"{exc}; {carules.refused_for_addresses(profile)}", retry_after=exc.retry_after) from exc
    warnings.extend([warning] if warning else [])
    return order, profile, replaces


def _validate(session: Any, responder: responders.Responder, domains: list[str], order: Any,
              warnings: list[str]) -> None:
    """Steps 5-6 for the challenges of the authorizations the CA does not hold already."""
    challenges = session.pending_challenges(order, responder.challenge_type, domains)
    for challenge in challenges:
        responder.present(challenge)
    # 5. Self-check each challenge as the CA will, before spending a validation.
    for challenge in challenges:
        warning = responder.self_check(challenge)
        warnings.extend([warning] if warning else [])
    # 6. Ask the CA to validate, and wait (Retry-After, the run's deadline).
    for challenge in challenges:
        session.answer(challenge)
    for challenge in challenges:
        try:
            session.wait_valid(challenge)
        except ChallengeError as exc:
            raise ChallengeError(f"{exc}; {responder.advice(challenge)}") from exc


def _keep_window(cert_dir: str, name: str, leaf_pem: bytes, window: ari.Window | None) -> list[str]:
    """The ARI window that goes with a new version."""
    try:
        if window is not None:
            ari.save(lineage.version_folder(cert_dir, name), leaf_pem, window)
    except OSError as exc:
        return [f"the renewal window (ARI) of the new certificate could not be stored ({exc}); it is asked again on "
                "the next run"]
    return []


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
