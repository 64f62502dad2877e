"""A year of cron in a minute: the real CLI, twice a day for 400 simulated days, against Pebble.

How the clock moves: `zerodowntime-acme --now` (hidden, for tests) is the engine's clock. Pebble's
certificates are valid in real time, which would not move with it. So the proxy in front of Pebble,
which still validates every challenge for real, hands each certificate out re-dated: the same
public key and names, valid from the simulated now for the lifetime of its profile (classic: 90
days; shortlived: 160 hours), signed by the proxy's own CA. The engine checks that chain like any
other (our key, our names, each certificate issued by the next). ARI is left out (the proxy drops
`renewalInfo`), since Pebble cannot know re-dated certificates, and so is Pebble's Retry-After (its
fixed 1 s would be the whole cost of each of the hundred-odd renewals).

Faults are injected at seeded random points: CA outages, failed reloads, a renew killed with
SIGKILL, and a play running at the same time as cron.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest
from cryptography import x509

from ansible_collections.zerodowntime.acme.plugins.module_utils import cli, lineage, reloads, renewal
from tools.testbed.hostile import Forger, Rule, Upstream, certificates, rewrite, throttle

from .conftest import ROOT, ansible_env

# The host CLI, in-process, for a simulated year: the controller matrix does not repeat it.
pytestmark = pytest.mark.controller_independent

DAYS = 400
RUNS = DAYS * 2
HALF_DAY = datetime.timedelta(hours=12)
LIFETIMES = {"soak-short": datetime.timedelta(hours=160), "soak-classic": datetime.timedelta(days=90)}
PROFILES = {"soak-short": "shortlived", "soak-classic": "default"}


def _redate(clock: dict, forger: Forger):
    """The certificate download, re-dated to the simulated now (see the module's docstring)."""
    def change(upstream: Upstream, exchange) -> Upstream:
        if upstream.status != 200:
            return upstream
        leaf = certificates(upstream.body)[0]
        names = [str(n) for n in leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                 .get_values_for_type(x509.DNSName)]
        label = names[0].split(".")[0]
        start = clock["now"] - datetime.timedelta(minutes=1)
        return Upstream(200, upstream.headers, forger.chain(leaf.public_key(), names, start, LIFETIMES[label]))
    return change


def _without_ari(upstream: Upstream, exchange) -> Upstream:
    body = json.loads(upstream.body)
    body.pop("renewalInfo", None)
    return Upstream(upstream.status, upstream.headers, json.dumps(body).encode())


def _config(testbed, proxy) -> str:
    config = os.path.join(testbed.state, "soak")
    shutil.rmtree(config, ignore_errors=True)
    os.makedirs(os.path.join(config, "certificates"))
    for label in LIFETIMES:
        options = dict(testbed.args(label, directory_url=proxy.directory_url, profile=PROFILES[label]),
                       name=label, cert_dir=os.path.join(config, "live"))
        with open(os.path.join(config, "certificates", f"{label}.json"), "w") as f:
            json.dump(options, f)
    # The reload leaves a trace; it fails once whenever the test puts a FAIL file there.
    fail, trace = os.path.join(config, "FAIL"), os.path.join(config, "reloads")
    with open(os.path.join(config, "renew.json"), "w") as f:
        json.dump({"server": "nginx", "validate": ["true"],
                   "reload": ["sh", "-c", f'if [ -e {fail} ]; then rm {fail}; exit 1; fi; echo reload >> {trace}']}, f)
    return config


def _run(config: str, now: datetime.datetime, *extra: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli.main(["--config-dir", config, "--now", now.isoformat(), "renew", *extra])
    return rc, out.getvalue().splitlines()


def _reloads(config: str) -> int:
    path = os.path.join(config, "reloads")
    return len(open(path).read().splitlines()) if os.path.exists(path) else 0


def _engine_process(code: str) -> subprocess.Popen:
    env = dict(ansible_env(), PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "build", "collections"), ROOT]))
    # As the host CLI's script does, the engine gets its runner for programs first.
    runner = ("from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import start_program\n"
              "from ansible_collections.zerodowntime.acme.plugins.module_utils import commands\n"
              "commands.use(start_program)\n")
    return subprocess.Popen([sys.executable, "-c", "import json, sys\n" + runner + code], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _killed_renew(config: str, now: datetime.datetime, delay: float) -> None:
    """`renew --force` as its own process (cron's), killed with SIGKILL after `delay` seconds."""
    process = _engine_process(
        "from ansible_collections.zerodowntime.acme.plugins.module_utils.cli import main\n"
        f"sys.exit(main(['--config-dir', {config!r}, '--now', {now.isoformat()!r}, 'renew', '--force', 'soak-short']))")
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()


def _play(config: str, now: datetime.datetime) -> subprocess.Popen:
    """A play's forced run of the classic certificate (the module's engine call), in its own process."""
    return _engine_process(
        "import datetime\n"
        "from ansible_collections.zerodowntime.acme.plugins.module_utils import issuance, spec\n"
        f"options = json.load(open({os.path.join(config, 'certificates', 'soak-classic.json')!r}))\n"
        "outcome = issuance.ensure(spec.CertificateSpec.from_options(options), force=True,\n"
        f"                         now=datetime.datetime.fromisoformat({now.isoformat()!r}))\n"
        "sys.exit(0 if outcome.changed else 3)")


def test_a_year_of_cron(testbed, proxy):
    forger, clock = Forger(), {"now": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)}
    base_rules = [Rule("GET", "/dir", rewrite(_without_ari), times=10 ** 6),
                  Rule("POST", "/certZ/", rewrite(_redate(clock, forger)), times=10 ** 6)]
    proxy.drop_headers = {"Retry-After"}
    config = _config(testbed, proxy)
    live = os.path.join(config, "live")
    rng = random.Random(2026)
    # Faults, at runs chosen at random (after the first issuance).
    outages = {start + i for start in rng.sample(range(10, RUNS), 4) for i in range(rng.randint(1, 3))}
    failed_reloads = set(rng.sample(range(10, RUNS), 4))
    kills = set(rng.sample(range(10, RUNS), 3))
    plays = set(rng.sample(range(10, RUNS), 2))
    stats = dict(renewals=0, failures=0, plays=0, survived=0)
    previous: dict[str, lineage.CertInfo] = {}

    for run in range(RUNS):
        now = clock["now"] = clock["now"] + (HALF_DAY if run else datetime.timedelta(0))
        for label, cert in previous.items():  # nothing has expired before this run
            assert cert.not_after > now, f"{label} expired on {cert.not_after} (run {run}, {now})"
        proxy.rules = ([Rule("GET", "/dir", throttle(503, "3600"), times=10)] if run in outages else []) + base_rules
        if run in failed_reloads:
            open(os.path.join(config, "FAIL"), "w").close()
        if run in kills:
            _killed_renew(config, now, rng.uniform(0.05, 0.8))
            assert _valid(live, "soak-short"), f"run {run}: a killed renew left a broken lineage"
        marker_before = reloads.pending(live) is not None
        play = _play(config, now) if run in plays else None
        reloads_before = _reloads(config)
        rc, lines = _run(config, now)
        if play:
            _out, err = play.communicate(timeout=120)
            assert play.returncode == 0, f"run {run}: the concurrent play failed: {err}"
            stats["plays"] += 1

        renewed = [line for line in lines if ": renewed (" in line]
        failed = [line for line in lines if "FAILED" in line or "skipped after" in line]
        reload_lines = [line for line in lines if "nginx:" in line]
        # Cron's output: one line per change or failure, and the reload's line; nothing else.
        assert len(lines) == len(renewed) + len(failed) + len(reload_lines), lines
        assert rc == (1 if failed or any("failed" in line for line in reload_lines) else 0), lines
        stats["renewals"] += len(renewed)
        stats["failures"] += len(failed)
        # Every renewal is followed by exactly one successful reload: in its own run, or (when that
        # reload failed, or the renewal was a killed run's or a concurrent play's) in the next one.
        reloaded = _reloads(config) - reloads_before
        assert reloaded <= 1, lines
        if run in failed_reloads and (renewed or marker_before):
            assert reloaded == 0 and any("the next renew tries again" in line for line in reload_lines), lines
        elif renewed or marker_before:
            assert reloaded == 1, (run, lines)
        elif play is None:
            assert reloaded == 0, (run, lines)
        if os.path.exists(os.path.join(config, "FAIL")):  # no reload came to fail: not a fault after all
            os.unlink(os.path.join(config, "FAIL"))
        elif run in failed_reloads:
            stats["survived"] += 1
        stats["survived"] += (run in outages and bool(failed)) + (run in kills) + (play is not None)

        for label in LIFETIMES:  # renewed inside its window: after it was due, before it expired
            current = lineage.read(live, label)
            assert current is not None and current.cert is not None, f"run {run}: {label} is missing"
            old = previous.get(label)
            if old is not None and current.cert.serial != old.serial and f"{label}: renewed" in " ".join(renewed):
                assert renewal.renew_at(old.not_before, old.not_after) <= now < old.not_after, (label, run)
            previous[label] = current.cert

    # One more cron run: whatever was renewed last has been reloaded, and nothing is left pending.
    _run(config, clock["now"] + HALF_DAY)
    assert reloads.pending(live) is None
    orders = len([s for s in proxy.requests_to("POST", "/order-plz") if s.status == 201])
    faults = len(outages) + len(failed_reloads) + len(kills) + len(plays)
    summary = dict(days=DAYS, runs=RUNS, renewals=stats["renewals"] + stats["plays"], orders=orders,
                   faults_injected=faults, faults_that_hit=stats["survived"], failures_logged=stats["failures"],
                   expiries=0)
    print(f"\nsoak: {json.dumps(summary)}")
    # Orders: one per renewal, plus at most one for each renew killed midway.
    assert stats["renewals"] + stats["plays"] <= orders <= stats["renewals"] + stats["plays"] + len(kills)
    # About what the lifetimes ask for: 400 days / ~3.5 days, and 400 days / ~60 days.
    assert 100 <= stats["renewals"] <= 130, summary


def _valid(cert_dir: str, name: str) -> bool:
    current = lineage.read(cert_dir, name)
    return current is not None and current.cert is not None and os.path.exists(current.paths.privkey)
