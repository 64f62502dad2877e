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


def test_csr_for_addresses_has_ip_sans_and_no_address_in_the_cn():
    import ipaddress

    csr = x509.load_der_x509_csr(keys.make_csr(keys.generate("ec256"), ["192.0.2.1", "2001:db8::1", "www.example.org"]))
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.1"),
                                                       ipaddress.ip_address("2001:db8::1")]
    assert san.get_values_for_type(x509.DNSName) == ["www.example.org"]
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME) == []


def test_names_in_reads_dns_names_and_addresses_as_normalize_writes_them():
    key = keys.generate("ec256")
    cert = x509.load_pem_x509_certificate(keys.self_signed(key, ["www.example.org", "2001:db8::1", "192.0.2.1"]))
    assert keys.names_in(cert) == ["www.example.org", "2001:db8::1", "192.0.2.1"]


def test_unknown_key_is_none():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    assert keys.type_of(ed25519.Ed25519PrivateKey.generate().public_key()) is None
