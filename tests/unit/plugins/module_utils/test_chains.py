"""Choosing among the chains a CA offers: tests plugins/module_utils/chains.py."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.zerodowntime.acme.plugins.module_utils import chains

NOW = datetime.datetime(2026, 11, 29, tzinfo=datetime.timezone.utc)


def _cert(subject: str, issuer: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key()).serial_number(1).not_valid_before(NOW)
            .not_valid_after(NOW + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


LEAF = _cert("www.example.org", "Intermediate E7")
DEFAULT = LEAF + _cert("Intermediate E7", "Root X2")
ALTERNATE = LEAF + _cert("Intermediate E7", "Root X1 cross") + _cert("Root X2", "Root X1")


def test_without_a_preference_the_cas_default_chain_is_kept():
    assert chains.pick([DEFAULT, ALTERNATE], None) == (DEFAULT, None)


def test_the_chain_whose_top_certificate_was_issued_by_the_preferred_name_is_chosen():
    assert chains.pick([DEFAULT, ALTERNATE], "Root X1") == (ALTERNATE, None)
    assert chains.pick([DEFAULT, ALTERNATE], "Root X2") == (DEFAULT, None)


def test_an_intermediate_issuer_that_is_not_at_the_top_does_not_match():
    chain, warning = chains.pick([DEFAULT, ALTERNATE], "Root X1 cross")
    assert chain == DEFAULT and "Root X1, Root X2" in warning


def test_no_match_keeps_the_default_and_warns():
    chain, warning = chains.pick([DEFAULT], "ISRG Root X1")
    assert chain == DEFAULT
    assert "no chain the CA offers ends at an issuer named 'ISRG Root X1'" in warning


def test_a_bare_leaf_is_its_own_top():
    assert chains.top_issuer(LEAF) == "Intermediate E7"
