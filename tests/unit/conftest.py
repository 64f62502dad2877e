"""Certificates made on the spot, for the engine's unit tests."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import start_program
from ansible_collections.zerodowntime.acme.plugins.module_utils import commands

# In-process runs of the host CLI start programs as its script does (plugins/lookup/host_cli.py).
commands.use(start_program)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _key(key_type: str):
    if key_type == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))


def make_cert(domains, *, not_before=NOW, lifetime=datetime.timedelta(days=90), key_type="ec256",
              self_signed=False, issuer_key=None):
    """(key PEM, full chain PEM) of a leaf for `domains`, signed by a throw-away intermediate (or by
    one with `issuer_key`, so that several certificates come from one CA)."""
    key = _key(key_type)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0])])
    issuer_key = key if self_signed else issuer_key or ec.generate_private_key(ec.SECP256R1())
    issuer = subject if self_signed else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Intermediate")])
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(not_before)
        .not_valid_after(not_before + lifetime)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in domains]), critical=False)
    )
    if not self_signed:  # as a CA's certificates have it, and ARI's certificate ID needs it
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    leaf = builder.sign(issuer_key, hashes.SHA256())
    pem = leaf.public_bytes(serialization.Encoding.PEM)
    if not self_signed:
        inter = (
            x509.CertificateBuilder().subject_name(issuer).issuer_name(issuer).public_key(issuer_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before)
            .not_valid_after(not_before + lifetime).sign(issuer_key, hashes.SHA256())
        )
        pem += inter.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, pem


@pytest.fixture
def cert_factory():
    return make_cert
