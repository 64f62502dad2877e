"""The dns-01 responder: tests plugins/module_utils/dns01.py with the DNS around it played by a
small in-memory zone (the exchange with a real BIND and Pebble is tests/integration/test_dns01.py)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import dns01, dnsconfig
from ansible_collections.zerodowntime.acme.plugins.module_utils.dnslookup import Nameserver
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ChallengeError

NS1, NS2 = Nameserver("ns1.example.org", "192.0.2.1"), Nameserver("ns2.example.org", "2001:db8::2")


class Zone:
    """Records as the writer puts them, served by each nameserver once it `has` them."""

    def __init__(self, cnames=None, lagging=()):
        self.records: dict[str, list[str]] = {}
        self.cnames = cnames or {}
        self.lagging = set(lagging)
        self.calls: list[tuple] = []

    # The writer's side.
    def add(self, fqdn, value, identifier):
        self.calls.append(("add", fqdn, value))
        self.records.setdefault(fqdn, []).append(value)

    def remove(self, fqdn, value, identifier):
        self.calls.append(("remove", fqdn, value))
        self.records[fqdn].remove(value)

    # The lookup's side.
    def follow_cnames(self, name):
        while name in self.cnames:
            name = self.cnames[name]
        return name

    def zone_of(self, name):
        return "example.org" if name.endswith("example.org") else "alias.example"

    def nameservers(self, zone):
        return [NS1, NS2]

    def txt_values(self, server, name):
        return set() if server in self.lagging else set(self.records.get(name, []))


class Challenge:
    def __init__(self, identifier, key_authorization):
        self.identifier, self.token, self.key_authorization = identifier, "token", key_authorization


def _responder(zone, monkeypatch, check=True, **options):
    monkeypatch.setattr(dns01, "POLL_SECONDS", 0.01)
    parsed = dnsconfig.parse(dict({"writer": "hook", "hook": ["/bin/true"], "propagation_timeout": 1}, **options),
                             ["example.org"])
    responder = dns01.DnsResponder.__new__(dns01.DnsResponder)
    responder.options, responder.check, responder.lookup, responder.writer = parsed, check, zone, zone
    responder.warnings, responder._written, responder._waited = [], [], False
    return responder


def test_the_value_is_the_base64url_sha256_of_the_key_authorization():
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"tok.thumb").digest()).decode().rstrip("=")
    assert dns01.txt_value("tok.thumb") == expected and len(expected) == 43


def test_an_apex_and_its_wildcard_share_one_name_and_only_our_values_go(monkeypatch):
    zone = Zone()
    zone.records["_acme-challenge.example.org"] = ["someone-elses"]
    with _responder(zone, monkeypatch) as responder:
        for challenge in (Challenge("*.example.org", "a.t"), Challenge("example.org", "b.t")):
            responder.present(challenge)
            assert responder.self_check(challenge) is None
        assert len(zone.records["_acme-challenge.example.org"]) == 3
    assert zone.records["_acme-challenge.example.org"] == ["someone-elses"]


def test_a_cname_is_followed_before_writing(monkeypatch):
    zone = Zone(cnames={"_acme-challenge.example.org": "example.org.alias.example"})
    with _responder(zone, monkeypatch) as responder:
        challenge = Challenge("example.org", "a.t")
        responder.present(challenge)
        assert zone.calls[0][1] == "example.org.alias.example"
        assert "a CNAME to example.org.alias.example" in responder.advice(challenge)
    assert zone.records["example.org.alias.example"] == []


def test_a_nameserver_that_never_answers_it_is_named_and_the_record_still_goes(monkeypatch):
    zone = Zone(lagging=[NS2])
    with pytest.raises(ChallengeError, match=r"ns2.example.org \(2001:db8::2\) does not answer it yet") as raised:
        with _responder(zone, monkeypatch) as responder:
            challenge = Challenge("example.org", "a.t")
            responder.present(challenge)
            responder.self_check(challenge)
    assert "ns1.example.org" not in str(raised.value)
    assert zone.records["_acme-challenge.example.org"] == []


def test_without_the_self_check_only_the_fixed_delay_is_waited(monkeypatch):
    slept = []
    monkeypatch.setattr(dns01.time, "sleep", slept.append)
    zone = Zone(lagging=[NS1, NS2])
    with _responder(zone, monkeypatch, check=False, propagation_delay=30) as responder:
        for identifier in ("example.org", "*.example.org"):
            challenge = Challenge(identifier, identifier + ".t")
            responder.present(challenge)
            assert responder.self_check(challenge) is None
    assert slept == [30]  # once per order, not per record


def test_a_probe_is_written_and_deleted_once_per_record_name_before_any_order(monkeypatch):
    zone = Zone()
    responder = _responder(zone, monkeypatch)
    responder.prepare(["example.org", "*.example.org", "www.example.org"])
    assert [(c[0], c[1]) for c in zone.calls] == [
        ("add", "_acme-challenge.example.org"), ("remove", "_acme-challenge.example.org"),
        ("add", "_acme-challenge.www.example.org"), ("remove", "_acme-challenge.www.example.org")]
    assert len(zone.calls[0][2]) == 43
    assert zone.records == {"_acme-challenge.example.org": [], "_acme-challenge.www.example.org": []}


def test_a_record_that_cannot_be_deleted_is_a_warning_that_names_it(monkeypatch):
    zone = Zone()

    def refuse(fqdn, value, identifier):
        raise ChallengeError("REFUSED")

    with _responder(zone, monkeypatch) as responder:
        responder.present(Challenge("example.org", "a.t"))
        zone.remove = refuse
    assert responder.warnings and "_acme-challenge.example.org" in responder.warnings[0]
    assert "is left behind: REFUSED" in responder.warnings[0]
