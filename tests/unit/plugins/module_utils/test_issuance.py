"""The orchestration's offline paths: tests plugins/module_utils/issuance.py.

The paths that talk to a CA are tested against a real Pebble in tests/integration.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import issuance, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.connection import LETSENCRYPT
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec, validated
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError
from tests.unit.conftest import make_cert

# Nothing listens here: a test that reached the network would fail with a CA error, not pass.
UNREACHABLE = "https://127.0.0.1:9/dir"


def _spec(tmp_path, **kw):
    os.makedirs(tmp_path / "webroot", exist_ok=True)
    base = dict(domains=["a.example"], webroot=str(tmp_path / "webroot"), cert_dir=str(tmp_path / "live"),
                directory_url=UNREACHABLE, account_key=str(tmp_path / "account.pem"))
    base.update(kw)
    return CertificateSpec.from_options(base)


def _install(tmp_path, domains=("a.example",)):
    os.makedirs(tmp_path / "webroot", exist_ok=True)
    key, chain = make_cert(list(domains))
    versions.write(str(tmp_path / "live"), domains[0], key, chain, {"directory_url": UNREACHABLE})


@pytest.mark.parametrize("change, words", [
    (dict(domains=["*.example"]), "wildcard"),
    (dict(domains=[]), "empty"),
    (dict(domains=["127.0.0.9"], directory_url=LETSENCRYPT), "Let's Encrypt issues only for public IP addresses"),
    (dict(webroot="/nonexistent/webroot"), "does not exist"),
    (dict(key_type="dsa1024"), "key_type"),
    (dict(name="../x"), "folder name"),
])
def test_bad_input_fails_before_anything(tmp_path, change, words):
    with pytest.raises(ConfigError, match=words):
        issuance.ensure(_spec(tmp_path, **change))
    assert not os.path.exists(tmp_path / "live")


@pytest.fixture
def no_network(monkeypatch):
    """These tests name addresses outside 127.0.0.0/8 only as input that must be refused or checked
    without a connection: any attempt fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("directory_url", [LETSENCRYPT, "https://acme-staging-v02.api.letsencrypt.org/directory"])
@pytest.mark.parametrize("address", ["10.1.2.3", "127.0.0.5", "192.168.1.1", "172.16.0.1", "169.254.1.1", "fd00::1",
                                     "::1", "192.0.2.1", "100.64.0.1"])
def test_an_address_lets_encrypt_will_not_issue_for_fails_before_any_connection(
        tmp_path, address, directory_url):
    with pytest.raises(ConfigError, match=f"{re.escape(address)} is a private, loopback or reserved address"):
        issuance.ensure(_spec(tmp_path, domains=["www.example.org", address], directory_url=directory_url))
    assert not os.path.exists(tmp_path / "live")


@pytest.mark.usefixtures("no_network")
def test_an_address_at_lets_encrypt_in_another_profile_fails_before_anything(tmp_path):
    with pytest.raises(ConfigError, match="only in the 'shortlived' profile, not in 'classic'"):
        issuance.ensure(_spec(tmp_path, domains=["93.184.215.14"], directory_url=LETSENCRYPT, profile="classic"))
    assert validated(_spec(tmp_path, domains=["93.184.215.14"], directory_url=LETSENCRYPT,
                           profile="shortlived")).profile == "shortlived"


@pytest.mark.usefixtures("no_network")
def test_public_addresses_at_lets_encrypt_and_any_address_elsewhere_pass_the_checks(tmp_path):
    public = validated(_spec(tmp_path, domains=["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
                             directory_url=LETSENCRYPT))
    assert public.name == "ip-93-184-215-14"
    assert validated(_spec(tmp_path, domains=["127.0.0.9", "::1"])).domains == ["127.0.0.9", "::1"]


def test_check_mode_reports_due_and_touches_nothing(tmp_path):
    outcome = issuance.ensure(_spec(tmp_path), check_mode=True)
    assert outcome.changed and outcome.reason == "no certificate exists yet"
    assert outcome.diff == {"before": {}, "after": {"domains": ["a.example"], "not_after": "(a new certificate)"}}
    assert not os.path.exists(tmp_path / "live") and not os.path.exists(tmp_path / "account.pem")


def test_not_due_returns_the_current_certificate(tmp_path):
    _install(tmp_path)
    outcome = issuance.ensure(_spec(tmp_path))
    assert not outcome.changed and outcome.reason.startswith("not due")
    assert outcome.domains == ["a.example"] and outcome.serial and outcome.renew_at
    assert outcome.paths["fullchain"] == str(tmp_path / "live" / "a.example" / "fullchain.pem")


def test_a_run_with_nothing_due_imports_neither_acme_nor_cryptography_nor_the_issuing_code(tmp_path):
    # The module's no-op compiles every file it imports from the AnsiballZ zip (twice): the code
    # that orders, writes a version and answers challenges must stay out of it.
    _install(tmp_path)
    spec = json.dumps(dict(domains=["a.example"], webroot=str(tmp_path / "webroot"),
                           cert_dir=str(tmp_path / "live"), directory_url=UNREACHABLE,
                           account_key=str(tmp_path / "account.pem")))
    script = textwrap.dedent(f"""
        import json, sys
        from ansible_collections.zerodowntime.acme.plugins.module_utils import issuance, spec
        outcome = issuance.ensure(spec.CertificateSpec.from_options(json.loads({spec!r})))
        engine = "ansible_collections.zerodowntime.acme.plugins.module_utils."
        heavy = ("acme", "josepy", "requests", "urllib3", "cryptography", "urllib.request",
                 engine + "ordering", engine + "versions", engine + "responder", engine + "client", engine + "window")
        loaded = sorted(m for m in heavy if m in sys.modules)
        print(json.dumps({{"changed": outcome.changed, "loaded": loaded}}))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"changed": False, "loaded": []}


def test_crons_renew_with_nothing_due_imports_neither_acme_nor_cryptography(tmp_path):
    # The run's shared sessions (connection.shared_sessions) load the client only when one is needed.
    _install(tmp_path)
    (tmp_path / "certificates").mkdir()
    (tmp_path / "certificates" / "a.example.json").write_text(json.dumps(dict(
        domains=["a.example"], webroot=str(tmp_path / "webroot"), cert_dir=str(tmp_path / "live"),
        directory_url=UNREACHABLE, account_key=str(tmp_path / "account.pem"))))
    (tmp_path / "renew.json").write_text(json.dumps({"validate": ["true"], "reload": ["true"]}))
    script = textwrap.dedent(f"""
        import json, sys
        from ansible_collections.zerodowntime.acme.plugins.module_utils import cli
        code = cli.main(["--config-dir", {str(tmp_path)!r}, "renew"])
        heavy = ("acme", "josepy", "requests", "urllib3", "cryptography", "urllib.request")
        print(json.dumps({{"code": code, "loaded": sorted(m for m in heavy if m in sys.modules)}}))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == {"code": 0, "loaded": []}


def test_a_cert_dir_that_cannot_hold_the_certificate_fails_before_any_order(tmp_path):
    # UNREACHABLE would turn any request into a CAError: a ConfigError proves none was made.
    (tmp_path / "file").write_text("not a folder")
    for check_mode in (True, False):
        with pytest.raises(ConfigError, match="cannot hold the certificate 'a.example'"):
            issuance.ensure(_spec(tmp_path, cert_dir=str(tmp_path / "file" / "live")), check_mode=check_mode)


def test_a_planted_challenge_folder_link_fails_before_any_order(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.makedirs(tmp_path / "webroot" / ".well-known")
    os.symlink(outside, tmp_path / "webroot" / ".well-known" / "acme-challenge")
    with pytest.raises(ConfigError, match="symbolic link"):
        issuance.ensure(_spec(tmp_path))
    assert os.listdir(outside) == [] and not os.path.exists(tmp_path / "live")
