"""The role's lineage name comes from the engine's rule: tests plugins/filter/lineage_name.py."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.zerodowntime.acme.plugins.filter.lineage_name import FilterModule, lineage_name
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec, validated


@pytest.mark.parametrize("certificate, expected", [
    ({"domains": ["WWW.Example.org", "example.org"]}, "www.example.org"),
    ({"domains": ["bücher.example"]}, "xn--bcher-kva.example"),
    ({"domains": ["www.example.org"], "name": "site"}, "site"),
    ({"domains": ["www.example.org"], "name": None}, "www.example.org"),
])
def test_the_name_is_the_one_the_module_would_choose(certificate, expected, tmp_path):
    assert lineage_name(certificate) == expected
    options = dict(domains=certificate["domains"], name=certificate.get("name"), webroot=str(tmp_path))
    spec = validated(CertificateSpec.from_options(options))
    assert spec.name == expected


@pytest.mark.parametrize("certificate, words", [
    ({"domains": []}, "domains is empty"),
    ({"domains": ["www.*.example.org"]}, "not a valid wildcard"),
    ({"domains": ["a.example"], "name": "../etc"}, "cannot be a folder name"),
    ({"names": ["a.example"]}, "wants a certificate with 'domains'"),
    ("a.example", "wants a certificate with 'domains'"),
])
def test_bad_certificates_are_filter_errors(certificate, words):
    with pytest.raises(AnsibleFilterError, match=words):
        lineage_name(certificate)


def test_a_wildcard_lives_in_the_folder_of_the_name_below_it_as_with_certbot():
    assert lineage_name({"domains": ["*.Example.org", "example.org"]}) == "example.org"


def test_the_filter_is_registered():
    assert FilterModule().filters()["lineage_name"] is lineage_name
