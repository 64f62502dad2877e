"""Name checks before any order: tests plugins/module_utils/names.py."""

from __future__ import annotations

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import addresses, names
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def test_normalises_case_trailing_dot_and_duplicates():
    assert names.normalize(["WWW.Example.org.", "www.example.org", "example.org"]) == [
        "www.example.org", "example.org"]


def test_idn_goes_to_punycode():
    assert names.normalize(["bücher.example"]) == ["xn--bcher-kva.example"]


@pytest.mark.parametrize("bad, words", [
    ([], "empty"),
    (["www.*.example.org"], "not a valid wildcard"),
    (["*example.org"], "not a valid wildcard"),
    (["*.*.example.org"], "not a valid wildcard"),
    (["*.192.0.2.1"], "wildcard over an IP address"),
    (["fe80::1%eth0"], "zone"),
    (["::ffff:192.0.2.1"], "IPv4 address written as IPv6"),
    (["[192.0.2.1]"], "only IPv6 addresses take"),
    (["192.0.2.1/24"], "not a valid DNS name"),
    (["bad_name.example"], "not a valid DNS name"),
    (["-lead.example"], "not a valid DNS name"),
    (["a..example"], "not a valid DNS name"),
    ([("a" * 64) + ".example"], "not a valid DNS name"),
    ([".".join(["a" * 60] * 5)], "too long"),
    ([""], "not a DNS name"),
    ([f"n{i}.example" for i in range(101)], "at most 100"),
    (["a.example\n"], "spaces or control characters"),
    (["a.example\nlocation / { return 200; }"], "spaces or control characters"),
    (["a.example;"], "not a valid DNS name"),
    (["a example"], "spaces or control characters"),
    # Resolvers read these as addresses; only loopback-looking forms here, never sent anywhere.
    (["127.1"], "looks like an IP address"),
    (["0x7f.1"], "looks like an IP address"),
    (["127.0.0.01"], "looks like an IP address"),
    (["a.0x"], "looks like an IP address"),
    ([7], "not a DNS name"),
])
def test_bad_names_fail_clearly(bad, words):
    with pytest.raises(ConfigError, match=words):
        names.normalize(bad)


def test_ip_addresses_are_kept_in_their_canonical_text_beside_dns_names():
    assert names.normalize(["192.0.2.1", "2001:DB8:0:0::1", "[2001:db8::2]", "www.example.org", "192.0.2.1"]) == [
        "192.0.2.1", "2001:db8::1", "2001:db8::2", "www.example.org"]


@pytest.mark.parametrize("domains, folder", [
    (["127.0.0.5"], "ip-127-0-0-5"),
    (["::1"], "ip6-0-0-0-0-0-0-0-1"),
    (["2001:db8::5", "192.0.2.1"], "ip6-2001-db8-0-0-0-0-0-5"),
    (["www.example.org", "192.0.2.1"], "www.example.org"),
])
def test_the_folder_of_an_address_certificate_reads_as_the_address(domains, folder):
    assert names.lineage_name(domains) == folder
    assert names.check_lineage_name(folder) == folder


def test_host_brackets_ipv6_only():
    assert [addresses.host(n) for n in ("www.example.org", "192.0.2.1", "2001:db8::1")] == [
        "www.example.org", "192.0.2.1", "[2001:db8::1]"]


def test_ip_tells_addresses_from_names():
    assert str(addresses.ip("2001:db8::1")) == "2001:db8::1" and str(addresses.ip("192.0.2.1")) == "192.0.2.1"
    assert addresses.ip("1.example") is None and addresses.ip("www.example.org") is None


def test_one_hundred_names_are_fine():
    assert len(names.normalize([f"n{i}.example" for i in range(100)])) == 100


def test_names_with_numbers_that_are_not_addresses_are_fine():
    assert names.normalize(["1.example", "a1.b2.example", "0x.example"]) == ["1.example", "a1.b2.example", "0x.example"]


@pytest.mark.parametrize("name", ["../etc", ".hidden", "a/b", "", "a\n", "a" * 129, None, 3])
def test_lineage_name_must_be_one_safe_folder(name):
    with pytest.raises(ConfigError):
        names.check_lineage_name(name)


def test_an_explicit_name_does_not_skip_the_checks_of_the_domains():
    with pytest.raises(ConfigError, match="control characters"):
        names.lineage_name(["a.example\nlocation /x { }"], "safe")


def test_a_first_domain_too_long_for_a_folder_asks_for_name():
    long_name = ".".join(["a" * 60] * 3) + ".example"
    with pytest.raises(ConfigError, match="set `name`"):
        names.lineage_name([long_name])
    assert names.lineage_name([long_name], "short") == "short"


def test_a_wildcard_is_the_leftmost_label_over_a_checked_name():
    assert names.normalize(["*.Example.ORG.", "example.org"]) == ["*.example.org", "example.org"]
    assert names.normalize(["*.bücher.example"]) == ["*.xn--bcher-kva.example"]
