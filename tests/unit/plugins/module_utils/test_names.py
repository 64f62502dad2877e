"""Name checks before any order: tests plugins/module_utils/names.py."""

from __future__ import annotations

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import names
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def test_normalises_case_trailing_dot_and_duplicates():
    assert names.normalize(["WWW.Example.org.", "www.example.org", "example.org"]) == [
        "www.example.org", "example.org"]


def test_idn_goes_to_punycode():
    assert names.normalize(["bücher.example"]) == ["xn--bcher-kva.example"]


@pytest.mark.parametrize("bad, words", [
    ([], "empty"),
    (["*.example.org"], "wildcard"),
    (["192.0.2.1"], "IP address"),
    (["2001:db8::1"], "IP address"),
    (["bad_name.example"], "not a valid DNS name"),
    (["-lead.example"], "not a valid DNS name"),
    (["a..example"], "not a valid DNS name"),
    ([("a" * 64) + ".example"], "not a valid DNS name"),
    ([".".join(["a" * 60] * 5)], "too long"),
    ([""], "not a DNS name"),
    ([f"n{i}.example" for i in range(101)], "at most 100"),
])
def test_bad_names_fail_clearly(bad, words):
    with pytest.raises(ConfigError, match=words):
        names.normalize(bad)


def test_one_hundred_names_are_fine():
    assert len(names.normalize([f"n{i}.example" for i in range(100)])) == 100


@pytest.mark.parametrize("name", ["../etc", ".hidden", "a/b", ""])
def test_lineage_name_must_be_one_safe_folder(name):
    with pytest.raises(ConfigError):
        names.check_lineage_name(name)
