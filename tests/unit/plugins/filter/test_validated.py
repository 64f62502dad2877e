"""A certificate checked by the engine's rules for the role: tests plugins/filter/validated.py."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.zerodowntime.acme.plugins.filter.validated import FilterModule, validated


def test_names_come_back_as_the_module_sends_them():
    assert validated({"domains": ["WWW.Example.org", "bücher.example", "www.example.org"]}) == {
        "name": "www.example.org", "domains": ["www.example.org", "xn--bcher-kva.example"]}
    assert validated({"domains": ["a.example"], "name": "site"}) == {"name": "site", "domains": ["a.example"]}


@pytest.mark.parametrize("certificate, words", [
    ({"domains": ["a.example\nlocation /x { return 200; }"]}, "control characters"),
    ({"domains": ["a.example\nlocation /x { return 200; }"], "name": "safe"}, "control characters"),
    ({"domains": ["a.example;"], "name": "safe"}, "not a valid DNS name"),
    ({"domains": ["a.example"], "name": "x;y"}, "cannot be a folder name"),
    ({"domains": ["127.1"]}, "looks like an IP address"),
    ({"domains": "a.example"}, "must be a list of DNS names"),
    ({"names": ["a.example"]}, "wants a certificate with 'domains'"),
    ({"domains": ["a.example"], "key_mode": "0644"}, "lets every user of the host read or change the private key"),
    ({"domains": ["a.example"], "key_mode": 640}, "an octal mode in quotes"),
    ({"domains": ["a.example"], "key_group": "ssl-cert;id"}, "key_group must be a user or group name"),
    ({"domains": ["a.example"], "key_owner": "$(id)"}, "key_owner must be a user or group name"),
])
def test_anything_the_module_refuses_is_a_filter_error(certificate, words):
    with pytest.raises(AnsibleFilterError, match=words):
        validated(certificate)


def test_the_filter_is_registered():
    assert FilterModule().filters()["validated"] is validated
