"""One session per CA for a whole `zerodowntime-acme renew` (the cron path), against Pebble 2.10:
the directory is fetched once and the account looked up once, whatever the number of certificates,
and the renewal-window (ARI) re-checks of a run cost one request each."""

from __future__ import annotations

import collections
import datetime
import json
import os

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import cli
from tools.testbed.pebble import without_nonce_retries

from .conftest import fqdn

# The host CLI, in-process: the controller matrix does not repeat it.
pytestmark = pytest.mark.controller_independent

LABELS = [f"batch{i}" for i in range(1, 9)]


@pytest.fixture(scope="module")
def config(testbed):
    """A config dir as the role writes it, with eight certificates of one CA and one account."""
    folder = os.path.join(testbed.state, "cli-sessions")
    os.makedirs(os.path.join(folder, "certificates"), exist_ok=True)
    for label in LABELS:
        with open(os.path.join(folder, "certificates", f"{label}.json"), "w", encoding="utf-8") as f:
            json.dump(dict(testbed.args(label), name=fqdn(label)), f)
    with open(os.path.join(folder, "renew.json"), "w", encoding="utf-8") as f:
        json.dump({"validate": ["true"], "reload": ["true"]}, f)
    return folder


def _requests_during(testbed, run) -> tuple[collections.Counter, int]:
    """The requests `run` sent, by method and first path segment, and the orders it placed."""
    before, orders_before = len(testbed.pebble.requests()), len(testbed.pebble.order_events())
    run()
    sent = [r.split("/")[0] + "/" + r.split("/")[1] for r in testbed.pebble.requests()[before:]]
    placed = [event for event in testbed.pebble.order_events()[orders_before:] if event[0] == "placed"]
    return collections.Counter(without_nonce_retries(sent)), len(placed)


def test_one_renew_of_eight_certificates_fetches_the_directory_once_and_finds_the_account_once(testbed, config,
                                                                                               capsys):
    counted, orders = _requests_during(testbed, lambda: cli.main(["--config-dir", config, "renew"]))
    out = capsys.readouterr().out
    assert out.count(": renewed (no certificate exists yet)") == len(LABELS), out
    assert counted["GET /dir"] == 1, counted
    # The account, once: one thread looks it up while the others wait, so no other request comes
    # between a refused nonce's POST and its retry.
    assert counted["POST /sign-me-up"] == 1 and counted["POST /my-account"] <= 1, counted
    # Orders from Pebble's own events: four threads' requests interleave in its log.
    assert orders == len(LABELS), counted


def test_the_renewal_window_rechecks_of_a_run_cost_one_request_each_and_one_directory(testbed, config, capsys):
    assert cli.main(["--config-dir", config, "renew"]) == 0  # issued by the test above, or now when run alone
    capsys.readouterr()
    # Seven hours on, every stored window is past its Retry-After (Pebble sends none: six hours).
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = len(testbed.pebble.requests())
    assert cli.main(["--config-dir", config, "--now", later, "renew"]) == 0
    assert capsys.readouterr().out == ""  # nothing due: nothing printed
    sent = testbed.pebble.requests()[before:]
    assert len(sent) == 1 + len(LABELS), sent
    assert sent[0] == "GET /dir" and all("renewal-info" in r or "renewalInfo" in r for r in sent[1:]), sent
