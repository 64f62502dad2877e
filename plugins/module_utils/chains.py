# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""preferred_chain: pick one of the chains a CA offers (RFC 8555 7.4.2, Link rel="alternate").

A chain is chosen by the issuer name (its common name) of its topmost certificate, the one a
client's trust store must hold: for Let's Encrypt, "ISRG Root X1" or "ISRG Root X2".
"""

from __future__ import annotations

from typing import Sequence

from . import versions


def pick(fullchains: Sequence[bytes], preferred: str | None) -> tuple[bytes, str | None]:
    """(the full chain to install, a warning). The CA's default (the first) unless another one's
    top certificate was issued by `preferred`; no match keeps the default, with a warning."""
    if not preferred:
        return fullchains[0], None
    tops = [top_issuer(chain) for chain in fullchains]
    for chain, top in zip(fullchains, tops):
        if top == preferred:
            return chain, None
    offered = ", ".join(sorted({t for t in tops if t})) or "none"
    return fullchains[0], (f"no chain the CA offers ends at an issuer named '{preferred}' (offered: {offered}); "
                           "installed the CA's default chain")


def top_issuer(fullchain_pem: bytes) -> str | None:
    """The common name of the issuer of the last certificate in a PEM bundle."""
    from cryptography import x509

    certificates = versions.pem_certificates(fullchain_pem)
    if not certificates:
        return None
    try:
        cert = x509.load_pem_x509_certificate(certificates[-1])
    except ValueError:  # a broken chain has no top to match; certcheck reports it if it is chosen
        return None
    names = cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else None
