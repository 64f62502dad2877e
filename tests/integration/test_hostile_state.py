"""Every file the host CLI reads, and every bundle a key holder can send, made hostile: the CLI as
the role installs it (the rendered script) answers each with a clear message and never with a
traceback, and never prints a line that the input forged. Offline: no CA is asked.

README, "Reliability": the table there lists what this tries."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import render
from ansible_collections.zerodowntime.acme.plugins.module_utils import install, lineage, versions
from tests.unit.conftest import make_cert

pytestmark = pytest.mark.controller_independent

NOW = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
FORGED = "2026-01-01 00:00:00"
# Year 1 at +14:00 cannot even be converted to UTC; deep nesting stops a recursive parser.
YEAR_ONE = "0001-01-01T00:00:00+14:00"
DEEP = "[" * 100000


def _cli(config, *command: str, payload: bytes | None = None) -> subprocess.CompletedProcess:
    script = config / "zerodowntime-acme"
    if not script.exists():
        script.write_text(render(sys.executable), encoding="utf-8")
        script.chmod(0o700)
    return subprocess.run([str(script), "--config-dir", str(config), *command], input=payload, capture_output=True,
                          env={"PATH": f"{config / 'bin'}:{os.environ['PATH']}", "ZERODOWNTIME_ACME_BYTECODE":
                               str(config / "cache"), "SSH_ORIGINAL_COMMAND": "receive"}, check=False, timeout=120)


def _clean(done: subprocess.CompletedProcess) -> str:
    """The output, after checking it: no traceback, valid UTF-8, no terminal escape, and no line
    that what the CLI read could have forged (FORGED starts a line only if a newline got through)."""
    out = done.stdout.decode("utf-8")
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    for line in out.splitlines():
        assert not line.startswith(FORGED) and "\x1b" not in line, out
    return out


@pytest.fixture
def host(tmp_path):
    """A member of a pool (`pool`, from web1, installed by a play with its roots) and an issuer of
    another (`site`, pushed to web2), with a stand-in ssh that takes every bundle."""
    (tmp_path / "certificates").mkdir()
    (tmp_path / "webroot").mkdir()
    (tmp_path / "bin").mkdir()
    ssh = tmp_path / "bin" / "ssh"
    ssh.write_text("#!/bin/sh\ncat > /dev/null\necho 'site: a new certificate from web1'\n")
    ssh.chmod(0o755)
    common = dict(webroot=str(tmp_path / "webroot"), cert_dir=str(tmp_path / "live"),
                  directory_url="https://127.0.0.1:9/dir")
    (tmp_path / "certificates" / "pool.json").write_text(json.dumps(dict(common, domains=["pool.example"],
                                                                         name="pool", issuer="web1")))
    (tmp_path / "certificates" / "site.json").write_text(json.dumps(dict(common, domains=["site.example"], name="site",
                                                                         members=[{"host": "web2", "address": "127.0.0.52"}])))
    (tmp_path / "renew.json").write_text(json.dumps({
        "validate": ["true"], "reload": ["true"], "metrics_file": str(tmp_path / "metrics.prom"),
        "push": {"host": "web1", "identity": "/nonexistent/id", "known_hosts": "/nonexistent/known_hosts"}}))
    key, chain = make_cert(["pool.example"], not_before=NOW)
    played = install.Bundle(name="pool", privkey=key.decode(), fullchain=chain.decode(), issuer="web1")
    top = "-----BEGIN CERTIFICATE-----" + chain.decode().split("-----BEGIN CERTIFICATE-----")[-1]
    install.install(str(tmp_path / "live"), "pool", ["pool.example"], played, trusted_roots=[top])
    key, chain = make_cert(["site.example"], not_before=NOW)
    versions.write(str(tmp_path / "live"), "site", key, chain, {"directory_url": common["directory_url"]})
    return tmp_path, played


def _bundle(played: install.Bundle, **fields) -> bytes:
    return json.dumps(dict(dataclasses.asdict(played), format=install.FORMAT, **fields)).encode()


BUNDLES = {
    "garbage": lambda b: b"\x00\xff\x1b[2Jgarbage",
    "deep": lambda b: DEEP.encode(),
    "too big": lambda b: b" " * (install.MAX_BUNDLE + 10),
    "a list": lambda b: b"[1, 2]",
    "wrong types": lambda b: _bundle(b, privkey=5, ari="yes"),
    "year 1": lambda b: _bundle(b, issued_at=YEAR_ONE),
    "issued in 2086": lambda b: _bundle(b, issued_at="2086-01-01T00:00:00Z"),
    "lone surrogate": lambda b: _bundle(b, name="pool\ud800"),
    "newline in issuer": lambda b: _bundle(b, issuer=f"web1\n{FORGED} zerodowntime-acme: forged"),
    "escape in url": lambda b: _bundle(b, directory_url="https://ca.example/\x1b[2J"),
    "another name": lambda b: _bundle(b, name="site"),
    "non-ASCII PEM": lambda b: _bundle(b, fullchain="-----BEGIN CERTIFICATE-----\né\n-----END CERTIFICATE-----\n"),
    "key is no key": lambda b: _bundle(b, privkey="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
}


@pytest.mark.parametrize("make", BUNDLES.values(), ids=BUNDLES.keys())
def test_a_hostile_bundle_is_refused_cleanly(host, make):
    config, played = host
    before = lineage.current_version(str(config / "live"), "pool")
    done = _cli(config, "receive", "--issuer", "web1", payload=make(played))
    out = _clean(done)
    assert done.returncode == 1 and ("nothing was installed" in out or "refused" in out), out
    assert lineage.current_version(str(config / "live"), "pool") == before


RENEW_JSON = {
    "a list": "[]", "empty reload": '{"reload": []}', "numbers as a command": '{"reload": [1, 2]}',
    "a string as a command": '{"validate": "nginx -t", "reload": ["true"]}', "metrics file a number": '{"metrics_file": 5}',
    "push a list": '{"push": [1]}', "push with a bad port": '{"push": {"host": "web1", "identity": "/i", '
                                                            '"known_hosts": "/k", "port": 99999}}',
    "not JSON": "{", "deep": DEEP, "a lone surrogate": '"\\ud800"', "escape in a value": '{"issue": "\\u001b[2J"}',
}


@pytest.mark.parametrize("text", RENEW_JSON.values(), ids=RENEW_JSON.keys())
@pytest.mark.parametrize("command", [["renew"], ["status"], ["push"], ["services"]])
def test_a_hostile_renew_json_is_one_clear_error(host, text, command):
    config, _played = host
    (config / "renew.json").write_text(text)
    done = _cli(config, *command)
    out = _clean(done)
    assert done.returncode == 1 and "renew.json" in out, out


STATE = {
    "backoff.json": [json.dumps({"pool": {"failures": 2, "next_attempt": YEAR_ONE}}),
                     json.dumps({"pool": {"failures": "many", "next_attempt": "soon"}, "\ud800": 5}),
                     "[]", DEEP, "\xff"],
    "delivered.json": [json.dumps({"site": {"web2": {"sha256": "x" * 64, "serial": "1\n", "at": YEAR_ONE,
                                                     "error": "\x1b[2J" * 1000}}}),
                       json.dumps({"site": {"web2": [1]}, "../../x": {}}), DEEP, "[1]"],
    "live/.reload-pending": [json.dumps({"names": [f"pool\n{FORGED} forged", 5], "since": YEAR_ONE}), DEEP, "7"],
    "live/.hooks-done.json": [json.dumps({"pool": ["x"]}), DEEP],
    "live/pool/meta.json": [json.dumps({"issued_at": YEAR_ONE, "pool_roots": [5], "certificate": {"not_after": YEAR_ONE}}),
                            json.dumps({"received_from": f"web1\n{FORGED} forged", "directory_url": "\u001b[2J"}),
                            DEEP],
    "certificates/pool.json": [json.dumps({"domains": [f"pool.example\n{FORGED}"], "name": "pool", "webroot": "/x"}), DEEP,
                               json.dumps({"domains": ["pool.example"], "name": "../x", "webroot": "/x"})],
}


@pytest.mark.parametrize("path, text", [(path, text) for path, texts in STATE.items() for text in texts],
                         ids=[f"{path} {number}" for path, texts in STATE.items() for number in range(len(texts))])
@pytest.mark.parametrize("command", [["renew"], ["status"], ["status", "--json"], ["push"]])
def test_a_hostile_state_file_never_ends_a_run_in_a_traceback(host, path, text, command):
    config, _played = host
    (config / path).write_text(text, encoding="utf-8", errors="surrogatepass")
    done = _cli(config, *command)
    _clean(done)
    assert done.returncode in (0, 1)
