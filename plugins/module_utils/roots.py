# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roots a pool trusts: the root certificate its CA's chain leads to.

A chain from a CA ends below a root that the chain itself does not carry. When a pool's issuer
orders, it looks that root up (the chain's own top when it is self-signed, else the ca_bundle, else
the system's trust store) and records it beside the certificate. The play hands what the issuer
recorded to the members (never the bundle: whoever holds a push key writes the bundle), and a
member installs only a chain whose top is signed by one of those roots. Intermediates rotate, so
they are never pinned; roots last for years.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from . import certcheck, versions
from .errors import AcmeError, CAError

if TYPE_CHECKING:
    from .lineage import Lineage

# Read once per process: an issuance run may order many certificates.
_STORES: dict[tuple[str, int, int], list[Any]] = {}


def of_chain(chain: Sequence[Any], ca_bundle: str | None = None) -> list[str]:
    """The PEM of the root that `chain` (parsed, leaf first) leads to; [] when it is nowhere to be
    found (a private CA whose root is not in ca_bundle)."""
    top = chain[-1]
    if top.issuer == top.subject and certcheck.signed_by(top, top):
        return [_pem(top)]
    for path in _stores(ca_bundle):  # one at a time: the system's is read only when ca_bundle lacks it
        for candidate in _store(path):
            if candidate.subject == top.issuer and certcheck.signed_by(top, candidate):
                return [_pem(candidate)]
    return []


def of_lineage(current: Lineage | None, ca_bundle: str | None = None) -> list[str]:
    """The roots recorded when the lineage's certificate was ordered; looked up now for one ordered
    before they were recorded (or whose root was not found then). [] for none or a placeholder."""
    if current is None or current.cert is None or current.cert.self_signed:
        return []
    recorded = current.meta.get("roots")
    if isinstance(recorded, list) and recorded and all(isinstance(pem, str) for pem in recorded):
        return recorded
    try:
        with open(current.paths.fullchain, "rb") as f:
            return of_chain(certcheck.parse_chain(f.read(), current.paths.fullchain), ca_bundle)
    except (OSError, AcmeError):
        return []


def check_leads_to(chain: Sequence[Any], roots: Sequence[str], source: str) -> None:
    """Raise CAError unless the top of `chain` is one of `roots` or is signed by one of them."""
    if not roots:
        raise CAError(f"this member knows no root to check the chain {source} sent against: run the play on the "
                      "pool (the members learn the issuer's roots from it); nothing was installed")
    top = chain[-1]
    trusted = parse(roots)
    for root in trusted:
        if top.subject == root.subject and certcheck.public_der(top.public_key()) == certcheck.public_der(
                root.public_key()):
            return
        if top.issuer == root.subject and certcheck.signed_by(top, root):
            return
    names = ", ".join(repr(root.subject.rfc4514_string()) for root in trusted)
    raise CAError(f"the chain {source} sent leads to {top.issuer.rfc4514_string()!r}, not to a root this pool trusts "
                  f"({names}); nothing was installed. If the pool's CA moved to a new root, run the play: the "
                  "members learn the issuer's roots from it")


def parse(roots: Iterable[str]) -> list[Any]:
    """The root certificates of PEM texts (a broken one is skipped: it trusts nothing)."""
    from cryptography import x509

    parsed = []
    with warnings.catch_warnings():  # a trust store's odd old root (a negative serial) is no news
        warnings.simplefilter("ignore")
        for pem in roots:
            for block in versions.pem_certificates(pem.encode("ascii", "replace")):
                try:
                    parsed.append(x509.load_pem_x509_certificate(block))
                except ValueError:
                    continue
    return parsed


def _stores(ca_bundle: str | None) -> list[str]:
    """Where a root may be: the connection's ca_bundle first, then the system's trust store."""
    import ssl  # only when a root is looked up, at an issuance

    defaults = ssl.get_default_verify_paths()
    paths = [ca_bundle] if ca_bundle else []
    return list(dict.fromkeys(paths + [p for p in (defaults.cafile, defaults.openssl_cafile) if p]))


def _store(path: str) -> list[Any]:
    try:
        info = os.stat(path)
        key = (os.path.realpath(path), int(info.st_mtime_ns), info.st_size)
        if key not in _STORES:
            with open(path, "rb") as f:
                _STORES[key] = parse([f.read().decode("ascii", "replace")])
        return _STORES[key]
    except OSError:
        return []


def _pem(cert: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return str(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
