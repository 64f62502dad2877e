# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private keys and CSRs, with `cryptography`."""

from __future__ import annotations

from typing import Any, Sequence

from . import addresses, times
from .errors import DependencyError
from .keytypes import CURVES, KEY_TYPES

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError as exc:  # the fronts report it through require_cryptography()
    CRYPTOGRAPHY_IMPORT_ERROR: ImportError | None = exc
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

# A CN holds at most 64 characters (RFC 5280 ub-common-name); longer names go in the SAN only.
_CN_MAX = 64


def require_cryptography() -> None:
    """Raise a clear error when the host lacks the `cryptography` library."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        raise DependencyError(
            "the Python library 'cryptography' is missing on this host "
            f"({CRYPTOGRAPHY_IMPORT_ERROR}); install python3-cryptography or pip's cryptography"
        )


def generate(key_type: str) -> Any:
    """Make a new private key of `key_type` (one of KEY_TYPES)."""
    if key_type.startswith("ec"):
        curve = ec.SECP256R1() if key_type == "ec256" else ec.SECP384R1()
        return ec.generate_private_key(curve)
    return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))


def to_pem(private_key: Any) -> bytes:
    """Serialise a private key as unencrypted PKCS#8 PEM."""
    return bytes(private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))


def load_pem(pem: bytes) -> Any:
    """Load an unencrypted PEM private key; ValueError/TypeError when it is not one."""
    return serialization.load_pem_private_key(pem, password=None)


def pem_to_der(cert_pem: bytes) -> bytes:
    """The DER form of the first certificate in `cert_pem`."""
    return bytes(x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER))


def type_of(public_key: Any) -> str | None:
    """Name a public key's type in KEY_TYPES terms, or None when it is none of them."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        for key_type, curve in CURVES.items():
            if public_key.curve.name == curve:
                return key_type
        return None
    if isinstance(public_key, rsa.RSAPublicKey):
        key_type = f"rsa{public_key.key_size}"
        return key_type if key_type in KEY_TYPES else None
    return None


def subject_alt_names(domains: Sequence[str]) -> Any:
    """The SAN extension for normalised names: a DNSName each, an IPAddress for an IP address."""
    return x509.SubjectAlternativeName([x509.IPAddress(address) if (address := addresses.ip(d)) else x509.DNSName(d)
                                        for d in domains])


def names_in(cert: Any) -> list[str] | None:
    """The DNS names and IP addresses of a certificate's SAN, as normalize() writes them; None
    without a SAN."""
    typed = typed_names_in(cert)
    return None if typed is None else [value for _kind, value in typed]


def typed_names_in(cert: Any) -> list[tuple[str, str]] | None:
    """The SAN's entries as ("dns", name) and ("ip", address): an address written as a DNS name
    is not that address to a client."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    return [("dns", str(n)) for n in san.get_values_for_type(x509.DNSName)] + \
        [("ip", str(a)) for a in san.get_values_for_type(x509.IPAddress)]


def typed(domains: Sequence[str]) -> list[tuple[str, str]]:
    """Normalised names as typed_names_in() gives them."""
    return [("ip" if addresses.ip(d) else "dns", d.lower()) for d in domains]


def make_csr(private_key: Any, domains: Sequence[str]) -> bytes:
    """A DER CSR for `domains` (all in the SAN; the first DNS name also as CN when it fits: an IP
    address never goes into the CN, which CAs have deprecated for it)."""
    first = domains[0]
    cn = [x509.NameAttribute(NameOID.COMMON_NAME, first)] if len(first) <= _CN_MAX and not addresses.ip(first) else []
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(cn))
    builder = builder.add_extension(subject_alt_names(domains), critical=False)
    csr = builder.sign(private_key, hashes.SHA256())
    return bytes(csr.public_bytes(serialization.Encoding.DER))


def self_signed(private_key: Any, domains: Sequence[str], days: int = 90) -> bytes:
    """A self-signed PEM certificate for `domains`: the placeholder that lets `nginx -t` pass
    before the first issuance. The renewal decision treats it as due at once."""
    import datetime

    now = times.now()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0][:_CN_MAX])])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(subject_alt_names(domains), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    return bytes(cert.public_bytes(serialization.Encoding.PEM))
