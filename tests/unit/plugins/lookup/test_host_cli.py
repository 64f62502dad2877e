"""The host CLI as one script: tests plugins/lookup/host_cli.py by running what it renders."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import ENGINE_DIR, LookupModule, render
from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads


def _script(tmp_path, text):
    path = tmp_path / "zerodowntime-acme"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def test_the_script_runs_the_engine_cli_without_any_engine_file_on_disk(tmp_path):
    script = _script(tmp_path, render(sys.executable))
    result = subprocess.run([str(script), "--config-dir", str(tmp_path / "none"), "status"],
                            capture_output=True, text=True, check=False, cwd=tmp_path,
                            env={"PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr
    assert "ansible" not in result.stderr


def test_it_carries_every_engine_module():
    text = render("/usr/bin/python3")
    for entry in os.listdir(ENGINE_DIR):
        if entry.endswith(".py"):
            assert f"'{entry[:-3]}': " in text
    assert text.startswith("#!/usr/bin/python3\n")


def test_the_same_engine_renders_the_same_text():
    assert render("/usr/bin/python3") == render("/usr/bin/python3")


def test_a_traceback_shows_the_engine_source_line(tmp_path):
    engine = tmp_path / "engine"
    engine.mkdir()
    (engine / "__init__.py").write_text("")
    shutil.copy(os.path.join(ENGINE_DIR, "commands.py"), engine)  # the script hands it its runner
    (engine / "helper.py").write_text("def explode():\n    raise RuntimeError('boom')  # the line to show\n")
    (engine / "cli.py").write_text("from . import helper\n\n\ndef main():\n    helper.explode()\n")
    script = _script(tmp_path, render(sys.executable, str(engine)))
    result = subprocess.run([str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "helper.py\", line 2, in explode" in result.stderr
    assert "raise RuntimeError('boom')  # the line to show" in result.stderr


def test_the_script_gives_the_engine_a_runner_that_starts_the_servers_commands(tmp_path):
    """The CLI reaches nginx (or whatever renew.json names) only through the runner the script
    installs; here with issuing off, so that a pending reload is all there is to do."""
    config, trace = tmp_path / "config", tmp_path / "trace"
    (config / "certificates").mkdir(parents=True)
    (tmp_path / "webroot").mkdir()
    (tmp_path / "live").mkdir()
    (config / "certificates" / "one.json").write_text(json.dumps({
        "domains": ["one.example"], "name": "one", "webroot": str(tmp_path / "webroot"),
        "cert_dir": str(tmp_path / "live"), "directory_url": "https://127.0.0.1:9/dir",
        "account_key": str(tmp_path / "account.pem")}))
    (config / "renew.json").write_text(json.dumps({
        "issue": False, "validate": ["sh", "-c", f"echo validate >> {trace}"],
        "reload": ["sh", "-c", f"echo reload >> {trace}"]}))
    script = _script(tmp_path, render(sys.executable))
    env = {"PATH": os.environ["PATH"]}
    reloads.mark(str(tmp_path / "live"), "one", datetime.datetime.now(datetime.timezone.utc))
    result = subprocess.run([str(script), "--config-dir", str(config), "renew"],
                            capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert trace.read_text().split() == ["validate", "reload"]
    assert "nginx: configuration valid, reloaded" in result.stdout


@pytest.mark.parametrize("python", ["python3", "/usr/bin/python3 -x", "/usr/bin/python3\nimport os", ""])
def test_only_an_interpreter_path_goes_into_the_shebang(python):
    with pytest.raises(AnsibleLookupError, match="absolute path"):
        render(python)


def test_the_lookup_takes_no_terms():
    with pytest.raises(AnsibleLookupError, match="no terms"):
        LookupModule().run(["x"])
