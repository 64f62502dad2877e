"""The dns-01 options: tests plugins/module_utils/dnsconfig.py."""

from __future__ import annotations

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import dnsconfig
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError

SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="
RFC2136 = {"writer": "rfc2136", "server": "192.0.2.53", "key_name": "Update-Key.", "key_secret": SECRET}
ACCOUNT = {"username": "eabcdb41-d89f-4580-826f-3e62e9755ef2", "password": "pass",
           "subdomain": "d420c923-bbd7-4056-ab64-c3ca54c9b3cf"}


def test_rfc2136_options_are_checked_and_defaults_filled():
    options = dnsconfig.parse(RFC2136, ["example.org"])
    assert (options.server, options.port, options.key_name, options.key_algorithm) == \
        ("192.0.2.53", 53, "update-key", "hmac-sha256")
    assert (options.propagation_timeout, options.propagation_delay, options.resolvers) == (300, 0, ())


@pytest.mark.parametrize("change, words", [
    ({"key_secret": "not base64!"}, "dns.key_secret of key update-key is not base64"),
    ({"key_secret": ""}, "needs dns.key_name and dns.key_secret"),
    ({"key_algorithm": "hmac-md5"}, "dns.key_algorithm must be one of"),
    ({"server": "ns1.example.org"}, "dns.server must hold IP addresses"),
    ({"server": None}, "needs dns.server"),
    ({"port": 0}, "dns.port must be a port number"),
    ({"key_name": "192.0.2.1"}, "is not a TSIG key name"),
    ({"key_name": "bad name"}, "is not a TSIG key name"),
    ({"resolvers": "192.0.2.1"}, "dns.resolvers must be a list"),
    ({"resolvers": ["resolver.example"]}, "dns.resolvers must hold IP addresses"),
    ({"propagation_timeout": 0}, "dns.propagation_timeout must be 1 to 3600"),
    ({"propagation_delay": 7200}, "dns.propagation_delay must be 0 to 3600"),
    ({"writer": "route53"}, "dns.writer must be one of rfc2136, hook, acme-dns"),
    ({"zone": "example.org"}, "dns has unknown options: zone"),
])
def test_bad_rfc2136_options_fail_naming_the_option_and_never_the_secret(change, words):
    with pytest.raises(ConfigError, match=words) as raised:
        dnsconfig.parse(dict(RFC2136, **change), ["example.org"])
    assert SECRET not in str(raised.value)


def test_no_dns_option_says_what_dns01_needs():
    with pytest.raises(ConfigError, match="challenge dns-01 needs the dns option"):
        dnsconfig.parse(None, ["example.org"])


def test_a_hook_is_an_absolute_program_with_its_arguments():
    assert dnsconfig.parse({"writer": "hook", "hook": ["/usr/local/bin/dns", "--zone", "x"]}, ["a.example"]).hook == \
        ("/usr/local/bin/dns", "--zone", "x")
    for hook in (None, [], ["dns-hook"], "/usr/local/bin/dns", ["/bin/x\0y"]):
        with pytest.raises(ConfigError, match="dns.hook"):
            dnsconfig.parse({"writer": "hook", "hook": hook}, ["a.example"])


def test_acme_dns_needs_an_account_for_each_name_a_wildcard_shares_its_names():
    options = dnsconfig.parse({"writer": "acme-dns", "acme_dns_url": "https://auth.example/",
                               "acme_dns_accounts": {"Example.org": ACCOUNT}}, ["*.example.org", "example.org"])
    assert options.acme_dns_url == "https://auth.example"
    assert options.acme_dns_accounts["example.org"].subdomain == ACCOUNT["subdomain"]
    with pytest.raises(ConfigError, match="no account for www.example.org"):
        dnsconfig.parse({"writer": "acme-dns", "acme_dns_url": "https://auth.example",
                         "acme_dns_accounts": {"example.org": ACCOUNT}}, ["example.org", "www.example.org"])


@pytest.mark.parametrize("url, accounts, words", [
    ("http://auth.example", {"a.example": ACCOUNT}, "must be the https URL"),
    ("https://auth.example/?x=1", {"a.example": ACCOUNT}, "must be the https URL"),
    ("https://auth.example", {"a.example": dict(ACCOUNT, password="")}, "must hold username, password and subdomain"),
    ("https://auth.example", {"a.example": dict(ACCOUNT, subdomain="../x")}, "never hands out"),
    ("https://auth.example", ["a.example"], "must map each name"),
])
def test_bad_acme_dns_options_fail_before_any_order(url, accounts, words):
    with pytest.raises(ConfigError, match=words) as raised:
        dnsconfig.parse({"writer": "acme-dns", "acme_dns_url": url, "acme_dns_accounts": accounts}, ["a.example"])
    assert "pass" not in str(raised.value).replace("password", "")


def test_the_challenge_name_of_a_wildcard_is_that_of_the_name_below_it():
    assert dnsconfig.challenge_name("*.example.org") == dnsconfig.challenge_name("example.org") == \
        "_acme-challenge.example.org"


def test_the_module_spec_declares_every_option_and_hides_the_secrets():
    declared = dnsconfig.ARGUMENT_SPEC["options"]
    assert set(declared) == set(dnsconfig.DnsOptions._fields)
    assert declared["key_secret"]["no_log"] and declared["acme_dns_accounts"]["no_log"]
