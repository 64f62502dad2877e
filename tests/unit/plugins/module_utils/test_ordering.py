"""The part of issuance that talks to the CA: tests plugins/module_utils/ordering.py's offline
decisions. The exchange itself runs against a real Pebble (tests/integration)."""

from __future__ import annotations

from ansible_collections.zerodowntime.acme.plugins.module_utils import keys, lineage, ordering, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec
from tests.unit.conftest import make_cert


def _lineage(tmp_path, key_type="ec256"):
    key, chain = make_cert(["a.example"], key_type=key_type)
    versions.write(str(tmp_path), "a", key, chain, {})
    return key, lineage.read(str(tmp_path), "a")


def _public(private_key) -> bytes:
    from ansible_collections.zerodowntime.acme.plugins.module_utils.certcheck import public_der

    return public_der(private_key.public_key())


def test_reuse_key_keeps_the_key_in_place_when_its_type_still_fits(tmp_path):
    key_pem, current = _lineage(tmp_path)
    spec = CertificateSpec(domains=["a.example"], webroot=str(tmp_path), key_type="ec256", reuse_key=True)
    assert _public(ordering._private_key(spec, current)) == _public(keys.load_pem(key_pem))


def test_a_new_key_otherwise(tmp_path):
    key_pem, current = _lineage(tmp_path)
    kept = _public(keys.load_pem(key_pem))
    for spec in (CertificateSpec(domains=["a.example"], webroot=str(tmp_path), key_type="ec256"),
                 CertificateSpec(domains=["a.example"], webroot=str(tmp_path), key_type="ec384", reuse_key=True)):
        assert _public(ordering._private_key(spec, current)) != kept
    (tmp_path / "a" / "privkey.pem").write_text("broken")  # unreadable: a new key is the safe answer
    spec = CertificateSpec(domains=["a.example"], webroot=str(tmp_path), key_type="ec256", reuse_key=True)
    assert _public(ordering._private_key(spec, lineage.read(str(tmp_path), "a"))) != kept
