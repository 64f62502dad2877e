"""How the host CLI starts programs: commands.run through the runner that the CLI's script installs
(plugins/lookup/host_cli.py's start_program): no shell, output captured, a timeout always."""

from __future__ import annotations

import os
import sys
import time

import pytest

from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import start_program
from ansible_collections.zerodowntime.acme.plugins.module_utils import commands


@pytest.fixture(autouse=True)
def runner(monkeypatch):
    monkeypatch.setattr(commands, "_runner", start_program)


def test_output_and_exit_code_come_back_as_text():
    done = commands.run([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
                        timeout=30)
    assert (done.returncode, done.stdout.strip(), done.stderr.strip()) == (3, "out", "err")


def test_stdin_is_passed_and_nothing_goes_through_a_shell():
    done = commands.run([sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"], stdin=b"$(id);", timeout=30)
    assert done.stdout.strip() == ";)di($"


def test_a_missing_program_is_a_command_error():
    with pytest.raises(commands.CommandError, match="No such file"):
        commands.run(["/nonexistent/zdt-program"], timeout=30)


def test_a_program_past_its_timeout_is_stopped_and_reported():
    with pytest.raises(commands.CommandError, match=r"no answer within 0\.5 s"):
        commands.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)


def test_a_timeout_also_ends_what_the_program_started(tmp_path):
    # A deploy hook is a shell: its children would otherwise outlive the timeout.
    survivor = tmp_path / "survivor"
    with pytest.raises(commands.CommandError, match="no answer within"):
        commands.run(["/bin/sh", "-c", f"(sleep 2; touch {survivor}) & wait"], timeout=0.5)
    time.sleep(2.5)
    assert not survivor.exists()


def test_the_environment_gets_the_variables_given_and_keeps_its_own(monkeypatch):
    monkeypatch.setenv("ZDT_KEPT", "kept")
    done = commands.run(["/bin/sh", "-c", 'echo "$ZDT_KEPT $RENEWED_DOMAINS"'], timeout=30,
                        env={"RENEWED_DOMAINS": "a.test b.test"})
    assert done.stdout == "kept a.test b.test\n"
    assert "RENEWED_DOMAINS" not in os.environ


def test_undecodable_output_does_not_raise():
    done = commands.run([sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'\\xff ok')"], timeout=30)
    assert done.stdout.endswith(" ok")


def test_without_a_runner_nothing_is_started(monkeypatch, tmp_path):
    monkeypatch.setattr(commands, "_runner", None)
    marker = tmp_path / "started"
    with pytest.raises(commands.CommandError, match="this process has no runner"):
        commands.run(["touch", str(marker)], timeout=30)
    assert not marker.exists()
