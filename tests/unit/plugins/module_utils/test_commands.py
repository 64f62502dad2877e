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


def test_with_variables_the_environment_is_fixed_and_nothing_of_the_callers_passes(monkeypatch):
    # receive runs under SSH: the key holder's SSH_ORIGINAL_COMMAND and LC_* must not reach a hook.
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "rm -rf /")
    monkeypatch.setenv("LC_ALL", "xx_XX.evil")
    monkeypatch.setenv("PATH", "/tmp/planted:" + os.environ["PATH"])
    done = commands.run(["/bin/sh", "-c", "env"], timeout=30, env={"RENEWED_DOMAINS": "a.test b.test"})
    seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert seen.pop("RENEWED_DOMAINS") == "a.test b.test"
    assert seen.pop("PATH") == commands.PATH and seen.pop("LANG") == "C.UTF-8" and seen.pop("HOME")
    assert set(seen) <= {"PWD", "SHLVL", "_"}, seen  # what sh itself sets
    assert "RENEWED_DOMAINS" not in os.environ


def test_without_variables_the_program_gets_this_processs_environment(monkeypatch):
    monkeypatch.setenv("ZDT_KEPT", "kept")
    assert commands.run(["/bin/sh", "-c", 'echo "$ZDT_KEPT"'], timeout=30).stdout == "kept\n"


def test_only_the_end_of_endless_output_is_kept():
    # 40 MiB on each stream, then the line that says what failed.
    program = ("import sys\nfor stream in (sys.stdout, sys.stderr):\n"
               "    for _ in range(640): stream.write('x' * 65535 + '\\n')\n"
               "    stream.write('the last line\\n')\n")
    done = commands.run([sys.executable, "-c", program], timeout=60, stdin=b"ignored " * 200000)
    for output in (done.stdout, done.stderr):
        assert len(output.encode()) == commands.MAX_OUTPUT
        assert output.endswith("x\nthe last line\n")


def test_a_descriptor_handed_on_stays_open_in_the_program(tmp_path):
    read_end, write_end = os.pipe()
    try:
        write = [sys.executable, "-c", f"import os; os.write({write_end}, b'handed')"]
        assert commands.run(write, timeout=30, keep_fds=[write_end]).returncode == 0
        assert os.read(read_end, 100) == b"handed"
        other = commands.run(write, timeout=30)
        assert other.returncode != 0 and "Bad file descriptor" in other.stderr  # not handed on
    finally:
        os.close(read_end)
        os.close(write_end)


def test_undecodable_output_does_not_raise():
    done = commands.run([sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'\\xff ok')"], timeout=30)
    assert done.stdout.endswith(" ok")


def test_without_a_runner_nothing_is_started(monkeypatch, tmp_path):
    monkeypatch.setattr(commands, "_runner", None)
    marker = tmp_path / "started"
    with pytest.raises(commands.CommandError, match="this process has no runner"):
        commands.run(["touch", str(marker)], timeout=30)
    assert not marker.exists()
