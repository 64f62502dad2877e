"""preferred_chain against Pebble 2.10 with an alternate root: the chain is chosen by the issuer of
its topmost certificate."""

from __future__ import annotations

import os

from cryptography import x509

from ansible_collections.zerodowntime.acme.plugins.module_utils import chains

from .conftest import fqdn, run_module


def _root_name(testbed, index: int) -> str:
    root = x509.load_pem_x509_certificate(testbed.pebble.root_pem(index))
    return str(root.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)


def _installed_top_issuer(testbed) -> str | None:
    with open(os.path.join(testbed.state, "live", fqdn("chain"), "fullchain.pem"), "rb") as f:
        return chains.top_issuer(f.read())


def test_the_default_chain_without_a_preference(testbed):
    result = run_module(testbed.args("chain"))
    assert result["changed"], result.get("msg")
    assert _installed_top_issuer(testbed) == _root_name(testbed, 0)


def test_the_alternate_chain_is_installed_when_preferred(testbed):
    alternate = _root_name(testbed, 1)
    assert alternate != _root_name(testbed, 0)
    result = run_module(testbed.args("chain", preferred_chain=alternate, force=True))
    assert result["changed"], result
    assert not any("chain" in w for w in result.get("warnings", [])), result["warnings"]
    assert _installed_top_issuer(testbed) == alternate


def test_an_unknown_issuer_keeps_the_default_chain_and_warns(testbed):
    result = run_module(testbed.args("chain", preferred_chain="ISRG Root X9", force=True))
    assert result["changed"]
    assert any("no chain the CA offers ends at an issuer named 'ISRG Root X9'" in w for w in result["warnings"])
    assert _installed_top_issuer(testbed) == _root_name(testbed, 0)
