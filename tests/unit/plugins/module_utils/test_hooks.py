"""reload_services and deploy_hook after a new certificate: tests plugins/module_utils/hooks.py.

Deploy hooks run for real through the CLI's runner; systemctl is what these tests run around, so
the service command is a shell line that leaves a trace (Molecule's default scenario reloads a real
systemd unit).
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import commands, hooks, lineage, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec, validated
from tests.unit.conftest import NOW, make_cert


@pytest.fixture
def trace(tmp_path, monkeypatch):
    """Service reloads append "reload NAME" to a file; a service called "broken" fails."""
    path = tmp_path / "trace"
    monkeypatch.setattr(hooks, "SERVICE_COMMAND", (
        "sh", "-c", f'[ "$0" = broken ] && {{ echo "no such unit" >&2; exit 5; }}; echo "reload $0" >> {path}'))
    return path


def lines(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def spec(tmp_path, name: str, **options) -> CertificateSpec:
    (tmp_path / "webroot").mkdir(exist_ok=True)
    return validated(CertificateSpec(domains=[f"{name}.example", f"www.{name}.example"], name=name,
                                     webroot=str(tmp_path / "webroot"), cert_dir=str(tmp_path / "live"), **options))


def issue(one: CertificateSpec, placeholder: bool = False) -> None:
    key, chain = make_cert(one.domains)
    versions.write(one.cert_dir, str(one.name), key, chain, {"placeholder": True} if placeholder else {})


def test_each_service_is_reloaded_once_per_run_however_many_of_its_certificates_changed(tmp_path, trace):
    mail = spec(tmp_path, "mail", reload_services=["postfix", "dovecot"])
    shop = spec(tmp_path, "shop", reload_services=["postfix"])
    issue(mail)
    issue(shop)
    steps = hooks.run_due([mail, shop])
    assert [(s.what, s.names, s.error) for s in steps] == [
        ("reload postfix", ("mail", "shop"), None), ("reload dovecot", ("mail",), None)]
    assert lines(trace) == ["reload postfix", "reload dovecot"]


def test_only_a_new_version_runs_them_again(tmp_path, trace):
    mail = spec(tmp_path, "mail", reload_services=["postfix"])
    issue(mail)
    hooks.run_due([mail])
    assert hooks.run_due([mail]) == [] and hooks.due([mail]) == []
    issue(mail)
    assert [s.what for s in hooks.run_due([mail])] == ["reload postfix"]
    assert lines(trace) == ["reload postfix", "reload postfix"]


def test_a_placeholder_runs_nothing_the_real_certificate_does(tmp_path, trace):
    mail = spec(tmp_path, "mail", reload_services=["postfix"])
    issue(mail, placeholder=True)
    assert hooks.run_due([mail]) == []
    issue(mail)
    assert [s.what for s in hooks.run_due([mail])] == ["reload postfix"]


def test_certificates_without_services_or_hook_are_never_due(tmp_path, trace):
    plain = spec(tmp_path, "plain")
    issue(plain)
    assert hooks.run_due([plain]) == []
    assert not os.path.exists(os.path.join(plain.cert_dir, hooks.DONE))


def test_the_deploy_hook_runs_after_the_services_with_certbots_variables(tmp_path, trace):
    out = tmp_path / "hook-out"
    mail = spec(tmp_path, "mail", reload_services=["postfix"],
                deploy_hook=f'echo "hook $RENEWED_LINEAGE $RENEWED_DOMAINS" >> {trace}; echo done > {out}')
    issue(mail)
    steps = hooks.run_due([mail])
    assert [s.what for s in steps] == ["reload postfix", "deploy hook of mail"]
    assert lines(trace) == ["reload postfix", f"hook {tmp_path}/live/mail mail.example www.mail.example"]
    assert steps[1].finished.returncode == 0 and out.read_text() == "done\n"


def test_a_failure_stops_nothing_else_and_only_its_certificates_run_again(tmp_path, trace):
    mail = spec(tmp_path, "mail", reload_services=["broken", "postfix"])
    shop = spec(tmp_path, "shop", reload_services=["postfix"], deploy_hook="echo shop-hook-failed >&2; exit 3")
    web = spec(tmp_path, "web", reload_services=["nginx-exporter"])
    for one in (mail, shop, web):
        issue(one)
    steps = {s.what: s for s in hooks.run_due([mail, shop, web])}
    assert steps["reload broken"].error == "exit code 5: no such unit"
    assert steps["deploy hook of shop"].error == "exit code 3: shop-hook-failed"
    assert steps["deploy hook of shop"].finished.stderr == "shop-hook-failed\n"
    assert steps["reload postfix"].error is None and steps["reload nginx-exporter"].error is None
    assert lines(trace) == ["reload postfix", "reload nginx-exporter"]
    # The next run tries mail and shop again, not web.
    assert [one.name for one, _version in hooks.due([mail, shop, web])] == ["mail", "shop"]
    done = json.loads((tmp_path / "live" / hooks.DONE).read_text())
    assert done == {"web": lineage.current_version(web.cert_dir, "web")}


def test_a_hook_past_its_timeout_is_stopped_and_tried_again(tmp_path, trace, monkeypatch):
    monkeypatch.setattr(hooks, "HOOK_TIMEOUT", 0.5)
    mail = spec(tmp_path, "mail", deploy_hook="sleep 30")
    issue(mail)
    [step] = hooks.run_due([mail])
    assert "no answer within 0.5 s" in step.error
    assert hooks.due([mail])


def test_a_dry_run_says_what_would_run_and_runs_nothing(tmp_path, trace):
    mail = spec(tmp_path, "mail", reload_services=["postfix"], deploy_hook=f"echo ran >> {trace}")
    issue(mail)
    assert [s.what for s in hooks.run_due([mail], dry_run=True)] == ["reload postfix", "deploy hook of mail"]
    assert lines(trace) == [] and hooks.due([mail])
    hooks.run_due([mail])
    assert hooks.run_due([mail], dry_run=True) == []
    # Check mode of a renewal that is due: what the new version would run.
    assert [s.what for s in hooks.run_due([mail], dry_run=True, assume_due=True)] == [
        "reload postfix", "deploy hook of mail"]


def test_an_unreadable_record_runs_them_once_more_rather_than_never(tmp_path, trace):
    mail = spec(tmp_path, "mail", reload_services=["postfix"])
    issue(mail)
    hooks.run_due([mail])
    (tmp_path / "live" / hooks.DONE).write_text("{not json")
    assert [s.what for s in hooks.run_due([mail])] == ["reload postfix"]


@pytest.mark.parametrize("services", [["postfix; reboot"], ["$(id)"], ["-H host"], ["a b"], ["postfix\n"], "postfix",
                                      [3], ["x" * 300]])
def test_a_service_name_that_is_not_a_unit_name_is_refused(tmp_path, services):
    with pytest.raises(ConfigError, match="reload_services"):
        spec(tmp_path, "mail", reload_services=services)


@pytest.mark.parametrize("hook", ["", "   ", "a\0b", ["ls"]])
def test_an_empty_or_odd_deploy_hook_is_refused(tmp_path, hook):
    with pytest.raises(ConfigError, match="deploy_hook"):
        spec(tmp_path, "mail", deploy_hook=hook)


@pytest.mark.parametrize("service", ["postfix", "haproxy.service", "postfix@-.service", "getty@tty1", "a_b:c"])
def test_unit_names_are_accepted(tmp_path, service):
    assert spec(tmp_path, "mail", reload_services=[service]).reload_services == [service]


def _running_hook(marks) -> str:
    """A hook that notes when it starts and ends, and takes a while in between."""
    return f'echo "start $$" >> {marks}; sleep 1.5; echo "end $$" >> {marks}'


def _never_overlap(marks) -> list[str]:
    seen = lines(marks)
    for first, second in zip(seen[0::2], seen[1::2]):
        assert first.split()[0] == "start" and second == first.replace("start", "end"), seen
    return seen


def test_a_hook_never_runs_beside_itself_when_two_runs_meet(tmp_path, monkeypatch):
    """receive beside services once ran one deploy hook twice at once (issue 19)."""
    import threading

    marks = tmp_path / "marks"
    one = spec(tmp_path, "one", deploy_hook=_running_hook(marks))
    issue(one)
    monkeypatch.setattr(hooks, "LOCK_WAIT", 0.3)
    first = threading.Thread(target=hooks.run_due, args=([one],))
    first.start()
    while not marks.exists():
        pass
    second = hooks.run_due([one])  # while the first one's hook runs
    first.join()
    assert [(s.what, s.names) for s in second] == [("services and hooks", ("one",))]
    assert "still runs" in second[0].error
    assert len(_never_overlap(marks)) == 2 and hooks.due([one]) == []


def test_a_hook_left_running_by_a_killed_run_is_not_started_again_beside_it(tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import time

    marks = tmp_path / "marks"
    one = spec(tmp_path, "one", deploy_hook=_running_hook(marks))
    issue(one)
    program = ("from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import start_program\n"
               "from ansible_collections.zerodowntime.acme.plugins.module_utils import commands, hooks\n"
               "from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec\n"
               "import json, sys\n"
               "commands.use(start_program)\n"
               "hooks.run_due([CertificateSpec(**json.loads(sys.argv[1]))])\n")
    options = dict(domains=one.domains, name=one.name, webroot=one.webroot, cert_dir=one.cert_dir,
                   deploy_hook=one.deploy_hook)
    run = subprocess.Popen([sys.executable, "-c", program, json.dumps(options)],
                           env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    while not marks.exists():
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)  # cron's run dies; its hook goes on
    run.wait()
    monkeypatch.setattr(hooks, "LOCK_WAIT", 0.2)
    beside = hooks.run_due([one])
    assert beside and "still runs" in beside[0].error and len(lines(marks)) == 1
    monkeypatch.setattr(hooks, "LOCK_WAIT", 10.0)
    after = hooks.run_due([one])  # waits for it to end, then runs it: it was never recorded as done
    assert [s.error for s in after] == [None]
    assert len(_never_overlap(marks)) == 4 and hooks.due([one]) == []


def test_a_hook_gets_a_fixed_environment_and_nothing_of_the_callers(tmp_path, monkeypatch):
    """receive runs under SSH: the key holder's SSH_ORIGINAL_COMMAND and LC_* must not reach a hook."""
    seen = tmp_path / "env"
    one = spec(tmp_path, "one", deploy_hook=f"env > {seen}")
    issue(one)
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "zerodowntime-acme receive; rm -rf /")
    monkeypatch.setenv("LC_ZDT", "set by the key holder")
    assert [s.error for s in hooks.run_due([one])] == [None]
    env = dict(line.split("=", 1) for line in seen.read_text().splitlines())
    assert env["RENEWED_LINEAGE"].endswith("/live/one") and env["RENEWED_DOMAINS"] == "one.example www.one.example"
    assert "SSH_ORIGINAL_COMMAND" not in env and "LC_ZDT" not in env
    assert set(env) - {"PWD", "SHLVL", "_"} == {"PATH", "HOME", "LANG", "RENEWED_LINEAGE", "RENEWED_DOMAINS"}


def test_a_deploy_hook_that_ran_through_clears_the_reload_note_it_found(tmp_path, trace):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads

    web = spec(tmp_path, "web", deploy_hook="true")
    issue(web)
    reloads.mark(web.cert_dir, "web", NOW)
    steps, warnings = hooks.follow_up(web, True, dry_run=False, run=commands.run)
    assert [s.what for s in steps] == ["deploy hook of web"] and warnings == []
    assert reloads.pending(web.cert_dir) is None


@pytest.mark.parametrize("hook, dry_run", [("false", False), ("true", True)])
def test_a_failed_or_dry_run_hook_leaves_the_reload_note(tmp_path, trace, hook, dry_run):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads

    web = spec(tmp_path, "web", deploy_hook=hook)
    issue(web)
    reloads.mark(web.cert_dir, "web", NOW)
    steps, _warnings = hooks.follow_up(web, True, dry_run=dry_run, run=commands.run)
    assert steps and reloads.pending(web.cert_dir) is not None


def test_services_alone_leave_the_reload_note_to_the_web_servers_reload(tmp_path, trace):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads

    mail = spec(tmp_path, "mail", reload_services=["postfix"])
    issue(mail)
    reloads.mark(mail.cert_dir, "mail", NOW)
    steps, _warnings = hooks.follow_up(mail, True, dry_run=False, run=commands.run)
    assert [s.what for s in steps] == ["reload postfix"] and reloads.pending(mail.cert_dir) is not None
