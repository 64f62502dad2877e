"""`zerodowntime-acme renew` (the cron path) against Pebble 2.10: a failed certificate is left alone
for its backoff step, or for as long as the CA's Retry-After asks, and `--force` tries at once."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import cli
from tools.testbed.hostile import Rule, throttle

from .conftest import fqdn

# The host CLI, in-process: the controller matrix does not repeat it.
pytestmark = pytest.mark.controller_independent


def _config(testbed, folder: str, label: str, **spec) -> str:
    """A config dir as the role writes it, with one certificate; nginx commands that do nothing."""
    config = os.path.join(testbed.state, folder)
    os.makedirs(os.path.join(config, "certificates"), exist_ok=True)
    spec = dict(testbed.args(label), name=fqdn(label), **spec)
    with open(os.path.join(config, "certificates", f"{label}.json"), "w") as f:
        json.dump(spec, f)
    with open(os.path.join(config, "renew.json"), "w") as f:
        json.dump({"validate": ["true"], "reload": ["true"]}, f)
    return config


def _state(config: str) -> dict:
    with open(os.path.join(config, "backoff.json")) as f:
        return json.load(f)


def test_a_failing_certificate_backs_off_and_force_retries_then_success_clears(testbed, capsys):
    unserved = os.path.join(testbed.state, "cli-unserved")
    os.makedirs(unserved, exist_ok=True)
    config = _config(testbed, "cli-backoff", "cliback", webroot=unserved)
    name = fqdn("cliback")

    assert cli.main(["--config-dir", config, "renew"]) == 1
    out = capsys.readouterr().out
    assert f"{name}: FAILED" in out and "HTTP 404" in out and "attempt 1" in out
    first = _state(config)[name]
    wait = datetime.datetime.fromisoformat(first["next_attempt"]) - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(seconds=30) < wait <= datetime.timedelta(seconds=72)

    assert cli.main(["--config-dir", config, "renew"]) == 1
    assert f"{name}: skipped after 1 failed attempt(s)" in capsys.readouterr().out

    assert cli.main(["--config-dir", config, "renew", "--force", name]) == 1
    assert "attempt 2" in capsys.readouterr().out
    second = _state(config)[name]
    wait = datetime.datetime.fromisoformat(second["next_attempt"]) - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(minutes=7) < wait <= datetime.timedelta(minutes=12)

    # Fixed (the webroot nginx serves): the forced run succeeds and the backoff is cleared.
    _config(testbed, "cli-backoff", "cliback")
    assert cli.main(["--config-dir", config, "renew", "--force", name]) == 0
    assert f"{name}: renewed" in capsys.readouterr().out
    assert _state(config) == {}


def test_a_long_retry_after_sets_the_next_attempt(testbed, proxy, capsys):
    proxy.rules = [Rule("POST", "/order-plz", throttle(429, "7200"), times=5)]
    config = _config(testbed, "cli-limited", "clilimited", directory_url=proxy.directory_url)
    name = fqdn("clilimited")
    assert cli.main(["--config-dir", config, "renew"]) == 1
    assert "rateLimited" in capsys.readouterr().out
    wait = datetime.datetime.fromisoformat(_state(config)[name]["next_attempt"]) - datetime.datetime.now(
        datetime.timezone.utc)
    # Stored in whole seconds, rounded up (never earlier than the CA asked): at most 1 s more.
    assert datetime.timedelta(minutes=115) < wait <= datetime.timedelta(hours=2, seconds=1)
    assert len(proxy.requests_to("POST", "/order-plz")) == 1
