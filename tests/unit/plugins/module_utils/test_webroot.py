"""Challenge files, token checks and the self-check: tests plugins/module_utils/webroot.py."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import webroot
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ChallengeError, ConfigError

KEY_AUTHZ = "tok_en-1.thumbprint"


@pytest.mark.parametrize("token", ["../../etc/passwd", "a/b", "a.b", "", "tök", "a b", "..", "a\x00"])
def test_tokens_that_are_not_base64url_are_refused(tmp_path, token):
    with pytest.raises(ChallengeError, match="not base64url"):
        webroot.challenge_path(str(tmp_path), token)


def test_base64url_token_lands_under_the_webroot(tmp_path):
    path = webroot.challenge_path(str(tmp_path), "Az09_-")
    assert path == os.path.join(str(tmp_path), ".well-known", "acme-challenge", "Az09_-")


def test_files_are_world_readable_and_removed_on_success(tmp_path):
    with webroot.ChallengeFiles(str(tmp_path)) as files:
        path = files.write("tok_en-1", KEY_AUTHZ)
        assert open(path).read() == KEY_AUTHZ
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) & 0o755 == 0o755
    assert not os.path.exists(path)


def test_files_are_removed_on_failure(tmp_path):
    with pytest.raises(RuntimeError):
        with webroot.ChallengeFiles(str(tmp_path)) as files:
            path = files.write("tok", KEY_AUTHZ)
            raise RuntimeError("the CA said no")
    assert not os.path.exists(path)


def test_missing_webroot_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        webroot.check_webroot(str(tmp_path / "missing"))


def test_read_only_webroot_is_a_config_error():
    # Root may write anywhere, so as root the check runs in a child process as 'nobody'.
    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o555)
    try:
        if os.geteuid() != 0:
            with pytest.raises(ConfigError, match="not writable"):
                webroot.check_webroot(folder)
            return
        script = ("from ansible_collections.zerodowntime.acme.plugins.module_utils import webroot\n"
                  f"webroot.check_webroot({folder!r})")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        run = subprocess.run([sys.executable, "-c", script], user=65534, group=65534, env=env,
                             capture_output=True, text=True, cwd="/", check=False)
        assert run.returncode == 1 and "ConfigError" in run.stderr and "not writable" in run.stderr
    finally:
        os.rmdir(folder)


@pytest.fixture
def served(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path; yields 'host:port'."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_self_check_passes_when_the_file_is_served(tmp_path, served):
    with webroot.ChallengeFiles(str(tmp_path)) as files:
        files.write("tok", KEY_AUTHZ)
        assert webroot.self_check(served, "tok", KEY_AUTHZ, str(tmp_path), 5) is None


def test_self_check_fails_on_404_naming_url_and_webroot(tmp_path, served):
    with pytest.raises(ChallengeError) as failure:
        webroot.self_check(served, "tok", KEY_AUTHZ, "/var/www/well-known", 5)
    message = str(failure.value)
    assert f"http://{served}/.well-known/acme-challenge/tok" in message
    assert "HTTP 404" in message and "/var/www/well-known" in message


def test_self_check_fails_on_other_content(tmp_path, served):
    with webroot.ChallengeFiles(str(tmp_path)) as files:
        files.write("tok", "something else")
        with pytest.raises(ChallengeError, match="other content"):
            webroot.self_check(served, "tok", KEY_AUTHZ, str(tmp_path), 5)


def test_self_check_warns_when_the_name_does_not_resolve(tmp_path):
    warning = webroot.self_check("no-such-name.invalid", "tok", KEY_AUTHZ, str(tmp_path), 5)
    assert "does not resolve" in warning


def test_self_check_warns_when_nothing_listens(tmp_path):
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    warning = webroot.self_check(f"127.0.0.1:{port}", "tok", KEY_AUTHZ, str(tmp_path), 5)
    assert "not reachable" in warning
