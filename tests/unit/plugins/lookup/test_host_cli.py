"""The host CLI as one script: tests plugins/lookup/host_cli.py by running what it renders."""

from __future__ import annotations

import datetime
import json
import marshal
import os
import shutil
import stat
import subprocess
import sys

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.zerodowntime.acme.plugins.lookup import host_cli
from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import ENGINE_DIR, LookupModule, render
from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads


def _env(tmp_path, **more):
    """The script's environment: its cache of compiled modules in the test's folder."""
    return {"PATH": os.environ["PATH"], "ZERODOWNTIME_ACME_BYTECODE": str(tmp_path / "cache"), **more}


def _script(tmp_path, text):
    path = tmp_path / "zerodowntime-acme"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def test_the_script_runs_the_engine_cli_without_any_engine_file_on_disk(tmp_path):
    script = _script(tmp_path, render(sys.executable))
    result = subprocess.run([str(script), "--config-dir", str(tmp_path / "none"), "status"],
                            capture_output=True, text=True, check=False, cwd=tmp_path,
                            env=_env(tmp_path))
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
    result = subprocess.run([str(script)], capture_output=True, text=True, check=False, env=_env(tmp_path))
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
        "issue": False, "server": "nginx", "validate": ["sh", "-c", f"echo validate >> {trace}"],
        "reload": ["sh", "-c", f"echo reload >> {trace}"]}))
    script = _script(tmp_path, render(sys.executable))
    env = _env(tmp_path)
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


# The cache of compiled engine modules -----------------------------------------------------------

FROM_THE_CACHE = "def main():\n    print('ran from the cache')\n    return 0\n"


def _status(script, tmp_path, cache, **env):
    return subprocess.run([str(script), "--config-dir", str(tmp_path / "none"), "status"], capture_output=True,
                          text=True, check=False, env=_env(tmp_path, ZERODOWNTIME_ACME_BYTECODE=str(cache), **env))


def _plant(cache, script, name, source, mode=0o600):
    """An entry for the engine module `name` that holds the code of `source` instead."""
    filename = os.path.join(str(script), name + ".py")
    entry = cache / host_cli.bytecode_entry(name, filename, host_cli.engine_sources()[name])
    entry.write_bytes(marshal.dumps(compile(source, filename, "exec")))
    entry.chmod(mode)
    return entry


def test_the_first_run_fills_the_cache_for_this_user_alone_and_the_next_runs_take_the_code_from_it(tmp_path):
    script, cache = _script(tmp_path, render(sys.executable)), tmp_path / "cache"
    assert _status(script, tmp_path, cache).returncode == 0
    entries = sorted(os.listdir(cache))
    assert any(entry.startswith("cli.") for entry in entries) and any(e.startswith("spec.") for e in entries)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((cache / entry).stat().st_mode) == 0o600 for entry in entries)
    # The next run takes cli's code from its entry (planted here), not from the source it carries.
    (cache / next(e for e in entries if e.startswith("cli."))).unlink()
    _plant(cache, script, "cli", FROM_THE_CACHE)
    assert _status(script, tmp_path, cache).stdout == "ran from the cache\n"


@pytest.mark.parametrize("folder_mode, entry_mode", [(0o777, 0o600), (0o770, 0o600), (0o700, 0o666), (0o700, 0o620)],
                         ids=["folder 0777", "folder 0770", "entry 0666", "entry 0620"])
def test_an_entry_that_someone_else_may_have_written_is_never_run(tmp_path, folder_mode, entry_mode):
    script, cache = _script(tmp_path, render(sys.executable)), tmp_path / "cache"
    cache.mkdir()
    _plant(cache, script, "cli", FROM_THE_CACHE, entry_mode)
    cache.chmod(folder_mode)
    result = _status(script, tmp_path, cache)
    assert result.returncode == 0 and "from the cache" not in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("uid, mode, trusted", [
    (os.geteuid(), 0o100600, True), (0, 0o100644, True), (os.geteuid() + 1000, 0o100600, False),
    (0, 0o100664, False), (0, 0o100606, False)])
def test_only_this_user_or_root_may_own_the_cache_and_no_one_else_may_write_it(uid, mode, trusted):
    found = os.stat_result((mode, 1, 1, 1, uid, 0, 10, 0, 0, 0))
    assert host_cli._trusted(found) is trusted  # pylint: disable=protected-access


def test_a_symlinked_entry_is_not_followed(tmp_path):
    script, cache = _script(tmp_path, render(sys.executable)), tmp_path / "cache"
    cache.mkdir(mode=0o700)
    elsewhere = _plant(tmp_path, script, "cli", FROM_THE_CACHE)
    (cache / elsewhere.name).symlink_to(elsewhere)
    result = _status(script, tmp_path, cache)
    assert result.returncode == 0 and "from the cache" not in result.stdout, result.stdout + result.stderr


def test_a_broken_entry_is_compiled_again_and_replaced(tmp_path):
    script, cache = _script(tmp_path, render(sys.executable)), tmp_path / "cache"
    cache.mkdir(mode=0o700)
    entry = _plant(cache, script, "cli", FROM_THE_CACHE)
    entry.write_bytes(b"\xe3 not marshalled code")
    result = _status(script, tmp_path, cache)
    assert result.returncode == 0, result.stderr
    assert marshal.loads(entry.read_bytes()).co_filename == os.path.join(str(script), "cli.py")


def test_a_new_engine_replaces_the_entries_of_the_old_one(tmp_path):
    engine = tmp_path / "engine"
    shutil.copytree(ENGINE_DIR, engine)
    cache = tmp_path / "cache"
    assert _status(_script(tmp_path, render(sys.executable, str(engine))), tmp_path, cache).returncode == 0
    with open(engine / "cli.py", "a", encoding="utf-8") as f:
        f.write("# the next release\n")
    assert _status(_script(tmp_path, render(sys.executable, str(engine))), tmp_path, cache).returncode == 0
    assert len([entry for entry in os.listdir(cache) if entry.startswith("cli.")]) == 1


def test_nothing_is_written_under_pythondontwritebytecode_or_where_the_folder_cannot_be(tmp_path):
    script, cache = _script(tmp_path, render(sys.executable)), tmp_path / "cache"
    assert _status(script, tmp_path, cache, PYTHONDONTWRITEBYTECODE="1").returncode == 0
    assert not os.listdir(cache)
    (tmp_path / "a-file").write_text("")
    result = _status(script, tmp_path, tmp_path / "a-file" / "cache")
    assert result.returncode == 0 and not result.stderr, result.stderr
