"""The roots a pool trusts: tests plugins/module_utils/roots.py."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.zerodowntime.acme.plugins.module_utils import roots
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import CAError

NOW = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(subject: str, issuer: str, key, signer) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=90))
            .sign(signer, hashes.SHA256()))


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _hierarchy(root_name: str = "Test Root X1"):
    """A root, an intermediate under it and a leaf: the chain a CA sends is [leaf, intermediate]."""
    root_key, inter_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _key in range(3))
    root = _cert(root_name, root_name, root_key, root_key)
    inter = _cert("Test Intermediate E1", root_name, inter_key, root_key)
    leaf = _cert("www.example", "Test Intermediate E1", leaf_key, inter_key)
    return root, [leaf, inter]


def test_the_root_is_found_in_the_ca_bundle(tmp_path):
    root, chain = _hierarchy()
    other, _chain = _hierarchy("Some Other Root")
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(_pem(other) + _pem(root))
    assert roots.of_chain(chain, str(bundle)) == [_pem(root)]


def test_a_root_found_nowhere_is_none():
    _root, chain = _hierarchy()
    assert roots.of_chain(chain, "/nonexistent.pem") == []


def test_a_chain_that_carries_its_root_needs_no_bundle():
    root, chain = _hierarchy()
    assert roots.of_chain([*chain, root]) == [_pem(root)]


def test_a_root_with_the_right_name_but_another_key_is_not_taken(tmp_path):
    _root, chain = _hierarchy()
    impostor, _chain = _hierarchy()  # "Test Root X1" too, with its own key
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(_pem(impostor))
    assert roots.of_chain(chain, str(bundle)) == []


def test_a_chain_leads_to_its_own_root_and_not_to_an_impostor_of_the_same_name():
    root, chain = _hierarchy()
    roots.check_leads_to(chain, [_pem(root)], "web1")
    roots.check_leads_to([*chain, root], [_pem(root)], "web1")
    forged_root, forged = _hierarchy()  # a CA made up on the spot, named like the real one
    with pytest.raises(CAError, match=r"leads to 'CN=Test Root X1', not to a root this pool trusts \('CN=Test Root X1'\)"):
        roots.check_leads_to(forged, [_pem(root)], "web1")
    with pytest.raises(CAError, match="not to a root this pool trusts"):
        roots.check_leads_to([*forged, forged_root], [_pem(root)], "web1")


def test_with_no_roots_nothing_is_trusted():
    _root, chain = _hierarchy()
    with pytest.raises(CAError, match="knows no root"):
        roots.check_leads_to(chain, [], "web1")
