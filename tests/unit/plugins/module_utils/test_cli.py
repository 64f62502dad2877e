"""The host CLI's offline paths: tests plugins/module_utils/cli.py.

Renewals that reach a CA run against a real Pebble in the Molecule `renewal` scenario.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import io
import json
import os
import sys

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import cli, issuance, lineage, network, push, versions
from tests.unit.conftest import make_cert

UNREACHABLE = "https://127.0.0.1:9/dir"


@pytest.fixture(autouse=True)
def no_retry_pauses(monkeypatch):
    """Nothing listens at UNREACHABLE: its refused connections are retried (network.py's own
    tests prove that), here without the pauses between them."""
    monkeypatch.setattr(network, "PAUSES", (network.PAUSES[0] * 0,) * len(network.PAUSES))


@pytest.fixture
def config(tmp_path):
    """A config dir with two certificates, and nginx commands that only leave a trace."""
    (tmp_path / "webroot").mkdir()
    (tmp_path / "certificates").mkdir()
    for name in ("one", "two"):
        spec = {"domains": [f"{name}.example"], "name": name, "webroot": str(tmp_path / "webroot"),
                "cert_dir": str(tmp_path / "live"), "directory_url": UNREACHABLE,
                "account_key": str(tmp_path / "account.pem")}
        (tmp_path / "certificates" / f"{name}.json").write_text(json.dumps(spec))
    trace = tmp_path / "nginx-calls"
    (tmp_path / "renew.json").write_text(json.dumps({
        "server": "nginx",
        "validate": ["sh", "-c", f"echo validate >> {trace}"],
        "reload": ["sh", "-c", f"echo reload >> {trace}"],
    }))
    return tmp_path


def _issue(config, name):
    key, chain = make_cert([f"{name}.example"])
    versions.write(str(config / "live"), name, key, chain, {"directory_url": UNREACHABLE})


def test_renew_with_nothing_due_prints_nothing_so_cron_mails_nothing(config, capsys):
    _issue(config, "one")
    _issue(config, "two")
    assert cli.main(["--config-dir", str(config), "renew"]) == 0
    assert capsys.readouterr().out == ""
    assert not (config / "nginx-calls").exists()
    # --verbose says it all.
    assert cli.main(["--config-dir", str(config), "renew", "--verbose"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "one: not due" in lines[0] and "two: not due" in lines[1]


def test_renew_failure_exits_non_zero_keeps_the_old_certificate_and_does_not_reload(config, capsys):
    _issue(config, "one")
    before = (config / "live" / "one" / "fullchain.pem").read_bytes()
    assert cli.main(["--config-dir", str(config), "renew", "--force", "one"]) == 1
    out = capsys.readouterr().out
    assert "one: FAILED, the current certificate stays in place" in out and "127.0.0.1:9" in out
    assert (config / "live" / "one" / "fullchain.pem").read_bytes() == before
    assert not (config / "nginx-calls").exists()


def test_unknown_name_is_a_clear_error(config, capsys):
    assert cli.main(["--config-dir", str(config), "renew", "three"]) == 1
    assert "no certificate named three" in capsys.readouterr().out


def test_placeholder_then_status(config, capsys):
    assert cli.main(["--config-dir", str(config), "placeholder", "one"]) == 0
    current = lineage.read(str(config / "live"), "one")
    assert current.cert.self_signed and current.cert.domains == ["one.example"]
    assert oct(os.stat(current.paths.privkey).st_mode & 0o777) == "0o600"
    # A second call leaves the existing pair alone.
    serial = current.cert.serial
    assert cli.main(["--config-dir", str(config), "placeholder", "one"]) == 0
    assert lineage.read(str(config / "live"), "one").cert.serial == serial

    capsys.readouterr()
    assert cli.main(["--config-dir", str(config), "status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("one: one.example; expires ") and "self-signed" in out[0]
    assert out[1].startswith("two: two.example; expires -; renews now; no certificate exists yet")


def test_a_second_renew_waits_for_the_lock(config, monkeypatch, capsys):
    import fcntl

    monkeypatch.setattr(cli, "LOCK_WAIT_SECONDS", 1)
    with open(config / ".renew.lock", "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert cli.main(["--config-dir", str(config), "renew"]) == cli.EX_TEMPFAIL
    out = capsys.readouterr().out
    assert "another run of zerodowntime-acme is running; waiting" in out and "giving up" in out


def test_status_json_is_one_list_for_monitoring(config, capsys):
    _issue(config, "one")
    assert cli.main(["--config-dir", str(config), "status", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in listed] == ["one", "two"]
    assert listed[0]["exists"] and not listed[0]["due"] and listed[0]["days_left"] > 80
    assert listed[1] == dict(listed[1], exists=False, due=True, reason="no certificate exists yet")


def test_a_failed_certificate_is_left_alone_until_its_backoff_ends_and_force_bypasses_it(config, capsys):
    _issue(config, "one")
    # Make it due: a certificate from another directory. The CA is unreachable, so it fails.
    meta_dir = os.path.realpath(config / "live" / "one")
    meta = json.loads(open(os.path.join(meta_dir, "meta.json")).read())
    meta["directory_url"] = "https://elsewhere.example/dir"
    open(os.path.join(meta_dir, "meta.json"), "w").write(json.dumps(meta))
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 1
    assert "attempt 1; next try after" in capsys.readouterr().out
    # The next run, a minute later at most, does not try again.
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 1
    out = capsys.readouterr().out
    assert "one: skipped after 1 failed attempt(s)" in out and "FAILED" not in out
    # --force tries at once, and counts a second failure.
    assert cli.main(["--config-dir", str(config), "renew", "--force", "one"]) == 1
    assert "attempt 2; next try after" in capsys.readouterr().out
    state = json.loads((config / "backoff.json").read_text())
    assert state["one"]["failures"] == 2


def test_a_rate_limited_certificate_waits_as_long_as_the_ca_asks(config, monkeypatch, capsys):
    import datetime

    from ansible_collections.zerodowntime.acme.plugins.module_utils import issuance, times
    from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import CAError

    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)).replace(microsecond=0)

    def rate_limited(spec, **_kwargs):  # the engine is faked here: what is tested is the CLI's bookkeeping
        raise CAError("placing the order failed: rateLimited", retry_after=until)

    monkeypatch.setattr(issuance, "ensure", rate_limited)
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 1
    state = json.loads((config / "backoff.json").read_text())
    assert state["one"] == {"failures": 1, "next_attempt": times.iso(until)}
    assert f"next try after {until.isoformat()[:16]}" in capsys.readouterr().out


def test_renew_writes_the_metrics_file_when_configured(config, capsys):
    _issue(config, "one")
    commands = json.loads((config / "renew.json").read_text())
    metrics_path = config / "metrics" / "zerodowntime_acme.prom"
    metrics_path.parent.mkdir()
    (config / "renew.json").write_text(json.dumps(dict(commands, metrics_file=str(metrics_path))))
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 0
    text = metrics_path.read_text()
    assert 'zerodowntime_acme_certificate_expiry_timestamp_seconds{name="one"} ' in text
    assert 'zerodowntime_acme_certificate_due{name="two"} 1' in text  # not renewed by this run, still listed
    assert "zerodowntime_acme_last_run_success 1" in text
    assert oct(os.stat(metrics_path).st_mode & 0o777) == "0o644"


def test_renew_writes_no_metrics_file_unless_configured(config, capsys):
    _issue(config, "one")
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 0
    assert not list(config.rglob("*.prom"))


def test_a_broken_certificate_file_stops_only_itself(config, capsys):
    _issue(config, "one")
    (config / "certificates" / "two.json").write_text("{not json")
    (config / "certificates" / "three.json").write_text(json.dumps({"domains": ["three.example"]}))  # no webroot
    assert cli.main(["--config-dir", str(config), "renew", "--verbose"]) == 1
    out = capsys.readouterr().out
    assert "two.json: skipped, cannot read" in out and "three.json: skipped" in out and "webroot" in out
    assert "one: not due" in out
    assert cli.main(["--config-dir", str(config), "status"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("one: one.example; expires ") and "two.json: cannot be used" in out


def test_force_stored_by_an_older_role_is_not_a_standing_order(config, capsys):
    _issue(config, "one")
    spec = json.loads((config / "certificates" / "one.json").read_text())
    (config / "certificates" / "one.json").write_text(json.dumps(dict(spec, force=True)))
    # UNREACHABLE: a renewal would fail. Nothing is due, so nothing is ordered and nothing printed.
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 0
    assert capsys.readouterr().out == ""


def test_an_unexpected_error_in_one_certificate_stops_only_it(config, monkeypatch, capsys):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import issuance

    _issue(config, "two")
    real = issuance.ensure

    def ensure(spec, **kwargs):  # the engine is faked for "one" only: what is tested is the CLI's isolation
        if spec.name == "one":
            raise RuntimeError("disk on fire")
        return real(spec, **kwargs)

    monkeypatch.setattr(issuance, "ensure", ensure)
    metrics_path = config / "metrics.prom"
    commands = json.loads((config / "renew.json").read_text())
    (config / "renew.json").write_text(json.dumps(dict(commands, metrics_file=str(metrics_path))))
    assert cli.main(["--config-dir", str(config), "renew", "--verbose"]) == 1
    out = capsys.readouterr().out
    assert "one: FAILED, the current certificate stays in place: unexpected RuntimeError: disk on fire" in out
    assert "two: not due" in out
    assert json.loads((config / "backoff.json").read_text())["one"]["failures"] == 1
    assert 'zerodowntime_acme_certificate_failures{name="one"} 1' in metrics_path.read_text()


def test_a_failed_reload_is_retried_by_the_next_run_until_it_succeeds(config, capsys):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads, times

    _issue(config, "one")
    reloads.mark(str(config / "live"), "one", times.now())  # as a renewal leaves it
    commands = json.loads((config / "renew.json").read_text())
    trace = config / "nginx-calls"
    (config / "renew.json").write_text(json.dumps(dict(commands, reload=["sh", "-c", f"echo busy >> {trace}; exit 1"])))
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 1
    assert "nginx: sh -c" in capsys.readouterr().out and reloads.pending(str(config / "live"))
    assert cli.main(["--config-dir", str(config), "status"]) == 0
    assert "reload pending" in capsys.readouterr().out
    (config / "renew.json").write_text(json.dumps(commands))  # nginx is fine again
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 0
    assert "reloaded with" in capsys.readouterr().out and reloads.pending(str(config / "live")) is None
    assert trace.read_text().splitlines() == ["validate", "busy", "validate", "reload"]
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 0  # and then no more reloads
    assert trace.read_text().splitlines()[-1] == "reload" and len(trace.read_text().splitlines()) == 4


def test_a_corrupt_backoff_entry_is_dropped_with_a_warning_and_the_run_goes_on(config, capsys):
    _issue(config, "one")
    (config / "backoff.json").write_text(json.dumps({"one": {"next_attempt": "soon"}}))
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 0
    assert "dropped the entry of 'one'" in capsys.readouterr().out
    assert json.loads((config / "backoff.json").read_text()) == {}


def test_the_hidden_clock_moves_the_decision(config, capsys):
    _issue(config, "one")
    assert cli.main(["--config-dir", str(config), "--now", "2026-12-01T00:00:00Z", "status", "--json"]) == 0
    later = "2030-01-01T00:00:00Z"
    assert cli.main(["--config-dir", str(config), "--now", later, "renew", "one"]) == 1  # due, and the CA is unreachable
    assert "one: FAILED" in capsys.readouterr().out


def test_a_server_without_a_configuration_check_is_only_reloaded(config, capsys):
    """The certificates role writes validate: [] for a server whose role names no check."""
    from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads, times

    _issue(config, "one")
    reloads.mark(str(config / "live"), "one", times.now())
    commands = json.loads((config / "renew.json").read_text())
    (config / "renew.json").write_text(json.dumps(dict(commands, validate=[])))
    assert cli.main(["--config-dir", str(config), "renew", "one"]) == 0
    assert "reloaded with" in capsys.readouterr().out
    assert (config / "nginx-calls").read_text().splitlines() == ["reload"]


def _issuing_off(config, value=False):
    settings = json.loads((config / "renew.json").read_text())
    (config / "renew.json").write_text(json.dumps(dict(settings, issue=value)))


def test_with_issuing_off_renew_asks_no_ca_and_keeps_the_placeholders(config, capsys, monkeypatch):
    assert cli.main(["--config-dir", str(config), "placeholder", "one", "two"]) == 0
    _issuing_off(config)
    capsys.readouterr()

    def no_order(*args, **kwargs):
        raise AssertionError("issuance.ensure was called with issuing off")

    monkeypatch.setattr(issuance, "ensure", no_order)
    for argv in (["renew"], ["renew", "--force"], ["renew", "--force", "one"]):
        assert cli.main(["--config-dir", str(config), *argv]) == 0
        out = capsys.readouterr().out
        assert "issuing is off (the role's zerodowntime_acme_issue is false): nothing is sent to any CA" in out
        assert "FAILED" not in out
    assert lineage.read(str(config / "live"), "one").cert.self_signed
    assert not (config / "backoff.json").exists() or json.loads((config / "backoff.json").read_text()) == {}
    assert cli.main(["--config-dir", str(config), "status"]) == 0
    assert capsys.readouterr().out.startswith("issuing is off (zerodowntime_acme_issue: false)")
    # An unknown name is still an error, so that a typo is not hidden by the mode.
    assert cli.main(["--config-dir", str(config), "renew", "three"]) == 1


def test_issue_in_renew_json_must_be_a_boolean(config, capsys):
    _issuing_off(config, "no")
    assert cli.main(["--config-dir", str(config), "renew"]) == 1
    assert "renew.json: issue is 'no'; it must be true or false" in capsys.readouterr().out


def test_renew_puts_the_key_access_right_and_says_so_without_renewing(config, capsys):
    _issue(config, "one")
    _issue(config, "two")
    spec = json.loads((config / "certificates" / "one.json").read_text())
    (config / "certificates" / "one.json").write_text(json.dumps(dict(spec, key_group="nogroup", key_mode="0640")))
    serial = lineage.read(str(config / "live"), "one").cert.serial
    assert cli.main(["--config-dir", str(config), "renew"]) == 0
    out = capsys.readouterr().out
    assert "one: not renewed, but its files were put right: version 1 privkey.pem: group root -> nogroup, " \
           "mode 0600 -> 0640" in out
    assert "two" not in out and "renewed (" not in out
    assert lineage.read(str(config / "live"), "one").cert.serial == serial
    assert oct(os.stat(config / "live" / "one" / "privkey.pem").st_mode & 0o777) == "0o640"
    assert cli.main(["--config-dir", str(config), "renew"]) == 0
    assert capsys.readouterr().out == ""


def _with_services(config, name, **options):
    path = config / "certificates" / f"{name}.json"
    path.write_text(json.dumps(dict(json.loads(path.read_text()), **options)))


def test_renew_reloads_the_other_services_after_nginx_once_each_and_retries_a_failure(config, capsys, monkeypatch):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import hooks, reloads, times

    trace = config / "nginx-calls"  # nginx's commands and the services' reloads, in order
    monkeypatch.setattr(hooks, "SERVICE_COMMAND", ("sh", "-c", f'echo "service $0" >> {trace}; [ -e {config}/ok ]'))
    _with_services(config, "one", reload_services=["postfix", "dovecot"], deploy_hook=f"echo hook-one >> {trace}")
    _with_services(config, "two", reload_services=["postfix"])
    metrics_path = config / "zerodowntime_acme.prom"
    (config / "renew.json").write_text(json.dumps(dict(json.loads((config / "renew.json").read_text()),
                                                       metrics_file=str(metrics_path))))
    for name in ("one", "two"):
        _issue(config, name)  # as a renewal leaves them
        reloads.mark(str(config / "live"), name, times.now())
    assert cli.main(["--config-dir", str(config), "renew"]) == 1  # the services fail: no file "ok"
    out = capsys.readouterr().out
    assert "reload postfix FAILED (one, two), tried again next run: exit code 1" in out
    assert "deploy hook of one: done (one)" in out  # a failure stops nothing else
    assert trace.read_text().splitlines() == ["validate", "reload", "service postfix", "service dovecot", "hook-one"]
    text = metrics_path.read_text()
    assert 'zerodowntime_acme_hook_failed{step="reload postfix",names="one,two"} 1' in text
    assert "zerodowntime_acme_last_run_success 0" in text

    (config / "ok").touch()
    assert cli.main(["--config-dir", str(config), "renew"]) == 0  # nginx is not reloaded again
    assert "reload dovecot: done (one)" in capsys.readouterr().out
    assert trace.read_text().splitlines()[5:] == ["service postfix", "service dovecot", "hook-one"]
    assert "hook_failed" not in metrics_path.read_text()
    assert cli.main(["--config-dir", str(config), "renew"]) == 0  # nothing new: nothing runs, nothing printed
    assert capsys.readouterr().out == "" and len(trace.read_text().splitlines()) == 8


def test_the_services_command_runs_what_is_due_under_the_renew_lock(config, capsys, monkeypatch):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import hooks

    trace = config / "services"
    monkeypatch.setattr(hooks, "SERVICE_COMMAND", ("sh", "-c", f'echo "$0" >> {trace}'))
    _with_services(config, "one", reload_services=["haproxy"])
    _issue(config, "one")
    assert cli.main(["--config-dir", str(config), "services"]) == 0
    assert "reload haproxy: done (one)" in capsys.readouterr().out
    assert cli.main(["--config-dir", str(config), "services"]) == 0
    assert capsys.readouterr().out == "" and trace.read_text() == "haproxy\n"
    assert not (config / "nginx-calls").exists()


def test_a_service_name_with_shell_characters_stops_only_its_certificate(config, capsys):
    _with_services(config, "one", reload_services=["postfix; rm -rf /"])
    _issue(config, "two")
    assert cli.main(["--config-dir", str(config), "renew", "two"]) == 1
    assert "one.json: skipped, reload_services holds 'postfix; rm -rf /', which is not a systemd service name" \
        in capsys.readouterr().out


@pytest.mark.parametrize("jobs", ["0", "33", "four", "-1"])
def test_jobs_must_be_a_number_from_1_to_32(config, capsys, jobs):
    with pytest.raises(SystemExit):
        cli.main(["--config-dir", str(config), "renew", "--jobs", jobs])
    assert "must be a number from 1 to 32" in capsys.readouterr().err


def test_with_several_jobs_the_failures_stay_apart_and_are_reported_in_order(config, capsys):
    # Both reach the unreachable CA at once: each fails alone, and the output keeps the list's order.
    assert cli.main(["--config-dir", str(config), "renew", "--jobs", "4"]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if "FAILED" in line]
    assert len(lines) == 2 and "one: FAILED" in lines[0] and "two: FAILED" in lines[1]
    assert not (config / "nginx-calls").exists()


def _files_under(folder):
    return {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in folder.rglob("*") if path.is_file()}


def test_a_renew_with_nothing_due_writes_nothing_and_starts_no_thread(config, capsys, monkeypatch):
    _issue(config, "one")
    _issue(config, "two")
    assert cli.main(["--config-dir", str(config), "renew"]) == 0  # its lock files stay
    before = _files_under(config)

    def no_pool(*args, **kwargs):
        raise AssertionError("a thread pool for a run with nothing due")

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", no_pool)
    assert cli.main(["--config-dir", str(config), "renew", "--jobs", "4"]) == 0
    assert capsys.readouterr().out == ""
    assert _files_under(config) == before


def test_what_needs_the_ca_and_what_does_not_are_reported_in_the_list_order(config, capsys):
    _issue(config, "two")  # one has no certificate yet: it needs the (unreachable) CA
    (config / "certificates" / "three.json").write_text(
        (config / "certificates" / "one.json").read_text().replace('"one', '"three'))
    assert cli.main(["--config-dir", str(config), "renew", "--jobs", "4", "--verbose"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[1] for line in lines] == ["one", "three", "two"], lines
    assert "one: FAILED" in lines[0] and "three: FAILED" in lines[1] and "two: not due" in lines[2], lines


@pytest.fixture
def member(config, monkeypatch):
    """`one` becomes a pool certificate issued on web1, which a play installed with its CA's root;
    returns a function that runs `receive --issuer web1` with a newer bundle (or `payload`) on stdin."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from ansible_collections.zerodowntime.acme.plugins.module_utils import install

    ca_key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    bundles = []
    for not_before in (start, start + datetime.timedelta(minutes=1)):
        key, chain = make_cert(["one.example"], not_before=not_before, issuer_key=ca_key)
        bundles.append(install.Bundle(name="one", privkey=key.decode(), fullchain=chain.decode(), issuer="web1"))
    spec_path = config / "certificates" / "one.json"
    spec_path.write_text(json.dumps(dict(json.loads(spec_path.read_text()), issuer="web1")))
    top = "-----BEGIN CERTIFICATE-----" + bundles[0].fullchain.split("-----BEGIN CERTIFICATE-----")[-1]
    install.install(str(config / "live"), "one", ["one.example"], bundles[0], trusted_roots=[top])  # the play

    def receive(payload: bytes | None = None) -> int:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload or bundles[1].to_json())))
        return cli.main(["--config-dir", str(config), "receive", "--issuer", "web1"])

    return receive


def test_receive_installs_then_reloads(config, member, capsys):
    assert member() == 0
    out = capsys.readouterr().out
    assert "one: a new certificate from web1" in out and "nginx: configuration valid, reloaded" in out
    assert lineage.read(str(config / "live"), "one").meta["received_from"] == "web1"


def test_a_member_whose_hook_fails_says_it_installed_it(config, member, capsys):
    """Exit 1 made the issuer push it again at every run, though the member served it (issue 19)."""
    spec_path = config / "certificates" / "one.json"
    spec_path.write_text(json.dumps(dict(json.loads(spec_path.read_text()), deploy_hook="echo no >&2; exit 1")))
    assert member() == push.INSTALLED_FOLLOWUPS_FAILED
    out = capsys.readouterr().out
    assert "one: a new certificate from web1" in out and "deploy hook of one FAILED" in out
    assert lineage.current_version(str(config / "live"), "one") == "2"


def test_receive_waits_for_the_lock_of_a_running_renew(config, member, monkeypatch, capsys):
    import fcntl

    monkeypatch.setattr(cli, "RECEIVE_LOCK_WAIT_SECONDS", 1)
    with open(config / ".renew.lock", "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert member() == cli.EX_TEMPFAIL
    assert "giving up" in capsys.readouterr().out and lineage.current_version(str(config / "live"), "one") == "1"


def test_push_holds_the_lock_so_two_pushes_cannot_lose_each_others_record(config, monkeypatch, capsys):
    import fcntl

    monkeypatch.setattr(cli, "LOCK_WAIT_SECONDS", 1)
    with open(config / ".renew.lock", "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert cli.main(["--config-dir", str(config), "push"]) == cli.EX_TEMPFAIL


def test_a_lone_surrogate_or_a_newline_sent_by_a_peer_is_printed_escaped_on_one_line(member, capfd):
    raw = json.dumps({"format": 1, "name": "one\ud800\nforged: line", "privkey": "", "fullchain": "",
                      "issuer": "web1"}).encode()
    assert member(raw) == 1
    out = capfd.readouterr().out
    assert len(out.splitlines()) == 1 and "one\\ud800\\nforged: line" in out


@pytest.mark.parametrize("renew_json", ['[]', '{"reload": []}', '{"reload": [1, 2]}', '{"metrics_file": 5}',
                                        '{"validate": "nginx -t"}', '{', '"\\ud800"'])
def test_a_malformed_renew_json_is_one_clear_error_before_any_work(config, capsys, renew_json):
    _issue(config, "one")
    (config / "renew.json").write_text(renew_json)
    assert cli.main(["--config-dir", str(config), "renew", "--force"]) == 1
    out = capsys.readouterr().out
    assert "renew.json" in out and len(out.splitlines()) == 1 and "FAILED" not in out


def test_a_backoff_date_that_overflows_is_dropped_and_the_run_goes_on(config, capsys):
    (config / "backoff.json").write_text('{"one": {"failures": 2, "next_attempt": "0001-01-01T00:00:00+14:00"}}')
    _issue(config, "one")
    _issue(config, "two")
    assert cli.main(["--config-dir", str(config), "renew"]) == 0
    assert "dropped the entry of 'one'" in capsys.readouterr().out


def test_reload_checks_and_reloads_even_with_nothing_pending_then_runs_the_services(config, capsys, monkeypatch):
    """The roles' handler: a new snippet needs a reload too, and it is the one reload path."""
    from ansible_collections.zerodowntime.acme.plugins.module_utils import hooks

    services = config / "services"
    monkeypatch.setattr(hooks, "SERVICE_COMMAND", ("sh", "-c", f'echo "$0" >> {services}'))
    spec_path = config / "certificates" / "one.json"
    spec_path.write_text(json.dumps(dict(json.loads(spec_path.read_text()), reload_services=["postfix"])))
    _issue(config, "one")
    assert cli.main(["--config-dir", str(config), "reload"]) == 0
    out = capsys.readouterr().out
    assert "nginx: configuration valid, reloaded with sh -c" in out and "reload postfix: done (one)" in out
    assert (config / "nginx-calls").read_text().splitlines() == ["validate", "reload"]
    assert services.read_text() == "postfix\n"


def test_reload_keeps_a_note_written_while_it_reloaded(config, capsys):
    """The nginx role's handler once deleted .reload-pending after its reload without looking: a
    certificate that cron wrote between the two was never loaded and nothing said so (issue 20)."""
    from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads, times

    _issue(config, "one")
    _issue(config, "two")
    live = str(config / "live")
    reloads.mark(live, "one", times.now())
    # cron's renewal of `two` lands while the server reloads
    late = (f"import sys; sys.path[:0] = {sys.path!r}; "
            "from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads, times; "
            f"reloads.mark({live!r}, 'two', times.now())")
    commands = json.loads((config / "renew.json").read_text())
    (config / "renew.json").write_text(json.dumps(dict(commands, reload=[sys.executable, "-c", late])))
    assert cli.main(["--config-dir", str(config), "reload"]) == 0
    assert reloads.pending(live)["names"] == ["one", "two"]  # still waiting: the next reload loads `two`


def test_a_failed_check_reloads_nothing_and_keeps_the_note(config, capsys):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads, times

    _issue(config, "one")
    reloads.mark(str(config / "live"), "one", times.now())
    commands = json.loads((config / "renew.json").read_text())
    (config / "renew.json").write_text(json.dumps(dict(commands, validate=["sh", "-c", "echo 'emerg: bad' >&2; exit 1"])))
    assert cli.main(["--config-dir", str(config), "reload"]) == 1
    assert "nginx: sh -c echo 'emerg: bad' >&2; exit 1 failed (1): emerg: bad" in capsys.readouterr().out
    assert reloads.pending(str(config / "live")) is not None and not (config / "nginx-calls").exists()


def test_without_renew_json_a_reload_says_what_is_missing(config, capsys):
    (config / "renew.json").unlink()
    assert cli.main(["--config-dir", str(config), "reload"]) == 1
    assert "web server: renew.json names no command to reload it" in capsys.readouterr().out
