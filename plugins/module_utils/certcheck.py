# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CA's certificate, checked before it is installed.

A certificate for another key, for other names, or with a chain that does not hold together would
make nginx fail every reload and start. So the chain the CA sends must be ASCII PEM holding only
certificates; its leaf must carry our public key and exactly the names ordered; and each
certificate must be issued (names and signature) by the next one. Otherwise nothing is installed.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Sequence

from . import times
from .errors import CAError

_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
# How far ahead of this host's clock a received certificate may start: clocks drift, a little.
RECEIVED_SKEW = datetime.timedelta(minutes=5)


def parse_chain(pem: bytes, what: str = "the certificate chain the CA sent") -> list[Any]:
    """The certificates of a PEM chain, in order (cryptography's x509.Certificate)."""
    from cryptography import x509

    try:
        text = pem.decode("ascii")
    except UnicodeDecodeError as exc:
        raise CAError(f"{what} is not ASCII PEM (byte {exc.start} is not ASCII); nothing was installed") from exc
    blocks = list(_BLOCK.finditer(text))
    if not blocks:
        raise CAError(f"{what} holds no PEM certificate; nothing was installed")
    if _BLOCK.sub("", text).strip():
        raise CAError(f"{what} holds text outside its PEM certificates; nothing was installed")
    chain = []
    for number, block in enumerate(blocks, start=1):
        try:
            if not _BASE64.fullmatch(block.group(1)):
                raise ValueError("characters that are not base64")
            chain.append(x509.load_pem_x509_certificate(block.group(0).encode("ascii")))
        except ValueError as exc:
            raise CAError(f"certificate {number} of {what} has a broken PEM body ({exc}); nothing was installed") from exc
    return chain


def to_pem(chain: Sequence[Any]) -> bytes:
    """The chain as canonical PEM: exactly what was checked, nothing else."""
    from cryptography.hazmat.primitives import serialization

    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in chain)


def check(chain: Sequence[Any], private_key: Any, domains: Sequence[str], now: datetime.datetime,
          source: str = "the CA") -> None:
    """Raise CAError unless the leaf is for our key and exactly `domains`, still valid, and each
    certificate is issued by the next one. `source` names who sent it, for the messages."""
    from . import keys

    leaf = chain[0]
    if public_der(leaf.public_key()) != public_der(private_key.public_key()):
        raise CAError(f"the certificate {source} sent is for another public key than the private key it goes "
                      "with; nothing was installed")
    found = keys.typed_names_in(leaf) or []
    names = [value for _kind, value in found]
    if sorted((kind, value.lower()) for kind, value in found) != sorted(keys.typed(domains)):
        raise CAError(f"the certificate {source} sent is for {', '.join(names) or 'no name'}, not for the names "
                      f"ordered ({', '.join(domains)}); nothing was installed")
    for number, (child, parent) in enumerate(zip(chain, chain[1:]), start=1):
        if child.issuer != parent.subject:
            raise CAError(f"the chain {source} sent is broken: certificate {number + 1} ({parent.subject.rfc4514_string()}) "
                          f"is not the issuer of certificate {number} ({child.issuer.rfc4514_string()}); "
                          "nothing was installed")
        if not signed_by(child, parent):
            raise CAError(f"the chain {source} sent is broken: the signature of certificate {number} does not verify "
                          f"with the key of certificate {number + 1} ({parent.subject.rfc4514_string()}); "
                          "nothing was installed")
    if _not_after(leaf) <= now:
        raise CAError(f"the certificate {source} sent expired on {_not_after(leaf):%Y-%m-%d %H:%M} UTC; "
                      "nothing was installed")


def check_received(chain: Sequence[Any], now: datetime.datetime, source: str) -> None:
    """What a certificate from another host must be on top of check(): valid now (a certificate
    from the future would be kept over every later one and hide from the renewal rule), and sent
    with its chain, as every CA sends it."""
    not_before = times.cert_time(chain[0], "not_valid_before")
    if not_before > now + RECEIVED_SKEW:
        raise CAError(f"the certificate {source} sent is not valid before {not_before:%Y-%m-%d %H:%M} UTC, which is "
                      "still ahead; nothing was installed")
    if len(chain) < 2:
        raise CAError(f"the certificate {source} sent comes without an intermediate certificate, and a CA always "
                      "sends its chain; nothing was installed")


def public_der(public_key: Any) -> bytes:
    """A public key's SubjectPublicKeyInfo, for comparing keys."""
    from cryptography.hazmat.primitives import serialization

    return bytes(public_key.public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo))


def signed_by(child: Any, parent: Any) -> bool:
    """Whether `parent`'s key verifies `child`'s signature."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

    # cryptography >= 40 checks it itself (RSA-PSS included); Debian 12 ships 38.
    verify_directly = getattr(child, "verify_directly_issued_by", None)
    try:
        if verify_directly is not None:
            verify_directly(parent)
            return True
        key = parent.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), child.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(child.signature, child.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _not_after(cert: Any) -> datetime.datetime:
    return times.cert_time(cert, "not_valid_after")
