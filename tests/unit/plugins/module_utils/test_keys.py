"""Keys and CSR contents: tests plugins/module_utils/keys.py."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from ansible_collections.zerodowntime.acme.plugins.module_utils import keys


@pytest.mark.parametrize("key_type", ["ec256", "ec384", "rsa2048"])
def test_generated_key_has_the_asked_type(key_type):
    key = keys.generate(key_type)
    assert keys.type_of(key.public_key()) == key_type
    assert keys.to_pem(key).startswith(b"-----BEGIN PRIVATE KEY-----")


def test_csr_lists_every_name_and_the_first_as_cn():
    key = keys.generate("ec256")
    csr = x509.load_der_x509_csr(keys.make_csr(key, ["www.example.org", "example.org"]))
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.org", "example.org"]
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "www.example.org"
    assert csr.is_signature_valid
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()


def test_csr_leaves_out_a_cn_longer_than_64():
    long_name = ("a" * 60) + ".example.org"
    csr = x509.load_der_x509_csr(keys.make_csr(keys.generate("ec256"), [long_name]))
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME) == []
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [long_name]


def test_unknown_key_is_none():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    assert keys.type_of(ed25519.Ed25519PrivateKey.generate().public_key()) is None
