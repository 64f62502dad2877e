"""The self-signed pair before the first issuance: tests plugins/module_utils/placeholders.py."""

from __future__ import annotations

import os
import stat

from ansible_collections.zerodowntime.acme.plugins.module_utils import lineage, placeholders, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec, validated
from tests.unit.conftest import make_cert


def _spec(tmp_path) -> CertificateSpec:
    return validated(CertificateSpec(domains=["a.example", "www.a.example"], name="a", webroot=str(tmp_path),
                                     cert_dir=str(tmp_path / "live"), key_type="ec384"))


def test_a_placeholder_is_a_self_signed_pair_for_the_names_marked_as_such(tmp_path):
    spec = _spec(tmp_path)
    assert placeholders.place(spec)
    placed = lineage.read(spec.cert_dir, "a")
    assert placed.cert.self_signed and placed.cert.domains == ["a.example", "www.a.example"]
    assert placed.cert.key_type == "ec384" and placed.meta["placeholder"] is True
    assert stat.S_IMODE(os.stat(placed.paths.privkey).st_mode) == 0o600


def test_a_placeholder_never_covers_a_certificate_in_place(tmp_path):
    spec = _spec(tmp_path)
    key, chain = make_cert(spec.domains)
    versions.write(spec.cert_dir, "a", key, chain, {})
    before = lineage.read(spec.cert_dir, "a").cert.serial
    assert not placeholders.place(spec)
    assert lineage.read(spec.cert_dir, "a").cert.serial == before
    assert placeholders.place(spec) is False  # and again: idempotent
