"""`zerodowntime-acme renew --jobs 4` against Pebble 2.10: eight certificates at once, each with its
own lineage lock and challenge files, one failing alone, and one reload at the end."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import cli

from .conftest import fqdn

# The host CLI, in-process: the controller matrix does not repeat it.
pytestmark = pytest.mark.controller_independent

LABELS = [f"jobs{i}" for i in range(1, 9)]


def test_four_jobs_renew_eight_certificates_with_one_reload_and_a_failure_of_its_own(testbed, capsys):
    config = os.path.join(testbed.state, "cli-jobs")
    os.makedirs(os.path.join(config, "certificates"), exist_ok=True)
    for label in [*LABELS, "jobsbad"]:  # jobsbad: its key's group does not exist on this host
        bad = {"key_group": "zdt-no-such-group", "key_mode": "0640"} if label == "jobsbad" else {}
        options = dict(testbed.args(label), name=fqdn(label), **bad)
        with open(os.path.join(config, "certificates", f"{label}.json"), "w", encoding="utf-8") as f:
            json.dump(options, f)
    reloads = os.path.join(config, "reloads")
    with open(os.path.join(config, "renew.json"), "w", encoding="utf-8") as f:
        json.dump({"validate": ["true"], "reload": ["sh", "-c", f"echo reload >> {reloads}"]}, f)

    before = len(testbed.pebble.order_events())
    assert cli.main(["--config-dir", config, "renew", "--jobs", "4"]) == 1  # one failed
    events = testbed.pebble.order_events()[before:]
    out = capsys.readouterr().out.splitlines()

    assert sum(": renewed (no certificate exists yet)" in line for line in out) == len(LABELS), out
    assert any(f"{fqdn('jobsbad')}: FAILED, the current certificate stays in place" in line
               and "zdt-no-such-group" in line for line in out), out
    # Reported in the order of the files (jobs1 ... jobs8, then jobsbad), whatever finished first.
    names = [line.split("zerodowntime-acme: ")[1].split(":")[0] for line in out if ": renewed" in line or "FAILED" in line]
    assert names == [fqdn(label) for label in [*LABELS, "jobsbad"]], out
    with open(reloads, encoding="utf-8") as f:
        assert f.read() == "reload\n"  # one reload for all of them
    # They ran at once: at some point two orders were placed and not yet finalized (jobs 1 would
    # finalize each before the next order).
    in_flight = peak = 0
    for event, _order in events:
        in_flight += 1 if event == "placed" else -1
        peak = max(peak, in_flight)
    assert peak >= 2, events
    assert sorted(event for event, _order in events) == ["finalized"] * len(LABELS) + ["placed"] * len(LABELS), events
    for label in LABELS:
        assert os.path.exists(os.path.join(testbed.state, "live", fqdn(label), "fullchain.pem"))
    assert not os.path.exists(os.path.join(testbed.state, "live", fqdn("jobsbad")))
    assert os.listdir(os.path.join(testbed.webroot, ".well-known", "acme-challenge")) == []
