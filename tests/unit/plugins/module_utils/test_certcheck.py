"""The CA's certificate, checked before it is installed: tests plugins/module_utils/certcheck.py."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.zerodowntime.acme.plugins.module_utils import certcheck, keys
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import CAError

NOW = datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.timezone.utc)
DOMAINS = ["www.example.org", "example.org"]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, public_key, issuer: str, signer, names=(), days=90, start=NOW - datetime.timedelta(hours=1)):
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days)))
    if names:
        builder = builder.add_extension(keys.subject_alt_names(names), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def world():
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    our_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("Test Root", root_key.public_key(), "Test Root", root_key)
    inter = _cert("Test Intermediate", inter_key.public_key(), "Test Root", root_key)
    leaf = _cert(DOMAINS[0], our_key.public_key(), "Test Intermediate", inter_key, DOMAINS)
    return dict(root=root, inter=inter, leaf=leaf, our_key=our_key, inter_key=inter_key, root_key=root_key)


def _pem(*certs) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def test_a_good_chain_passes_and_comes_back_as_canonical_pem(world):
    sent = _pem(world["leaf"], world["inter"]).replace(b"\n", b"\r\n") + b"\n\n"
    chain = certcheck.parse_chain(sent)
    certcheck.check(chain, world["our_key"], ["EXAMPLE.org", "www.example.org"], NOW)
    assert certcheck.to_pem(chain) == _pem(world["leaf"], world["inter"])
    certcheck.check(certcheck.parse_chain(_pem(world["leaf"], world["inter"], world["root"])), world["our_key"],
                    DOMAINS, NOW)


def test_a_certificate_for_addresses_is_checked_by_its_ip_sans(world):
    ordered = ["192.0.2.1", "2001:db8::1"]
    leaf = _cert("ip", world["our_key"].public_key(), "Test Intermediate", world["inter_key"], ordered)
    certcheck.check([leaf, world["inter"]], world["our_key"], ordered, NOW)
    with pytest.raises(CAError, match=r"is for 192\.0\.2\.1, 2001:db8::1, not for the names ordered \(192\.0\.2\.2"):
        certcheck.check([leaf, world["inter"]], world["our_key"], ["192.0.2.2", "2001:db8::1"], NOW)
    # The address as a DNS name is not the address.
    as_dns = _cert("ip", world["our_key"].public_key(), "Test Intermediate", world["inter_key"])
    as_dns = x509.CertificateBuilder().subject_name(as_dns.subject).issuer_name(as_dns.issuer).public_key(
        world["our_key"].public_key()).serial_number(1).not_valid_before(as_dns.not_valid_before_utc).not_valid_after(
        as_dns.not_valid_after_utc).add_extension(x509.SubjectAlternativeName([x509.DNSName("192.0.2.1")]),
                                                  critical=False).sign(world["inter_key"], hashes.SHA256())
    with pytest.raises(CAError):
        certcheck.check([as_dns, world["inter"]], world["our_key"], ["192.0.2.1"], NOW)


def test_a_certificate_for_another_key_is_refused(world):
    other = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(DOMAINS[0], other.public_key(), "Test Intermediate", world["inter_key"], DOMAINS)
    with pytest.raises(CAError, match="for another public key"):
        certcheck.check([leaf, world["inter"]], world["our_key"], DOMAINS, NOW)


@pytest.mark.parametrize("names", [["www.example.org"], DOMAINS + ["evil.example"], ["other.example", "example.org"], []])
def test_a_certificate_for_other_names_is_refused(world, names):
    leaf = _cert("x", world["our_key"].public_key(), "Test Intermediate", world["inter_key"], names)
    with pytest.raises(CAError, match="not for the names ordered"):
        certcheck.check([leaf, world["inter"]], world["our_key"], DOMAINS, NOW)


def test_a_chain_whose_next_certificate_is_not_the_issuer_is_refused(world):
    with pytest.raises(CAError, match="certificate 2 .*Test Root.* is not the issuer of certificate 1"):
        certcheck.check([world["leaf"], world["root"]], world["our_key"], DOMAINS, NOW)


def test_a_chain_with_the_right_name_but_another_key_is_refused(world):
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    impostor = _cert("Test Intermediate", impostor_key.public_key(), "Test Root", world["root_key"])
    with pytest.raises(CAError, match="signature of certificate 1 does not verify"):
        certcheck.check([world["leaf"], impostor], world["our_key"], DOMAINS, NOW)


def test_an_expired_certificate_is_refused(world):
    leaf = _cert(DOMAINS[0], world["our_key"].public_key(), "Test Intermediate", world["inter_key"], DOMAINS,
                 days=1, start=NOW - datetime.timedelta(days=3))
    with pytest.raises(CAError, match="expired"):
        certcheck.check([leaf, world["inter"]], world["our_key"], DOMAINS, NOW)


def test_the_signature_check_without_cryptographys_own_helper(world, monkeypatch):
    # Debian 12's cryptography 38 has no verify_directly_issued_by: the fallback must hold alone.
    class Plain:
        def __init__(self, cert):
            self._cert = cert

        def __getattr__(self, name):
            if name == "verify_directly_issued_by":
                raise AttributeError(name)
            return getattr(self._cert, name)

    assert certcheck.signed_by(Plain(world["leaf"]), Plain(world["inter"]))  # ECDSA
    assert certcheck.signed_by(Plain(world["inter"]), Plain(world["root"]))  # RSA
    assert not certcheck.signed_by(Plain(world["leaf"]), Plain(world["root"]))


@pytest.mark.parametrize("sent, words", [
    ("caf\u00e9".encode() + b"\n", "not ASCII PEM"),
    (b"", "holds no PEM certificate"),
    (b"<html>oops</html>", "holds no PEM certificate"),
    (b"-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n", "broken PEM body"),
    (b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n", "broken PEM body"),
])
def test_text_that_is_not_an_ascii_pem_chain_is_refused(sent, words):
    with pytest.raises(CAError, match=words):
        certcheck.parse_chain(sent)


def test_text_between_the_certificates_is_refused(world):
    with pytest.raises(CAError, match="text outside its PEM certificates"):
        certcheck.parse_chain(_pem(world["leaf"]) + b"ssl_certificate_key /etc/shadow;\n" + _pem(world["inter"]))
