"""zerodowntime.acme.certificate_info on a lineage issued by Pebble, and on a missing one."""

from __future__ import annotations

import os

from .conftest import fqdn, run_module


def test_info_on_an_issued_certificate(testbed):
    issued = run_module(testbed.args("info", name="info", profile="default"))
    requests_before = testbed.pebble.request_count()
    state = run_module({"name": "info", "cert_dir": os.path.join(testbed.state, "live"),
                        "directory_url": testbed.pebble.directory_url},
                       module="zerodowntime.acme.certificate_info")
    assert state["changed"] is False and state["exists"] is True
    assert state["domains"] == [fqdn("info")] and state["serial"] == issued["serial"]
    assert state["not_after"] == issued["not_after"] and state["renew_at"] == issued["renew_at"]
    assert 89 < state["days_left"] <= 90 and state["due"] is False
    assert state["issuer"].startswith("CN=Pebble Intermediate")
    assert testbed.pebble.request_count() == requests_before


def test_info_on_a_missing_certificate(testbed):
    state = run_module({"name": "nothing-here", "cert_dir": os.path.join(testbed.state, "live")},
                       module="zerodowntime.acme.certificate_info")
    assert state["exists"] is False and state["due"] is True and state["reason"] == "no certificate exists yet"


def test_info_says_when_the_wanted_names_differ(testbed):
    run_module(testbed.args("info", name="info", profile="default"))
    state = run_module({"name": "info", "cert_dir": os.path.join(testbed.state, "live"),
                        "directory_url": testbed.pebble.directory_url, "domains": [fqdn("info"), fqdn("a")]},
                       module="zerodowntime.acme.certificate_info")
    assert state["due"] is True and f"adds {fqdn('a')}" in state["reason"]
