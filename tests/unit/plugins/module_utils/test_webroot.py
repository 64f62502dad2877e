"""The http-01 responder: tests plugins/module_utils/webroot.py (the challenge folder) and
responder.py (the files in it and the self-check).

The webroot attacks are played for real on the file system: links and folders planted where a
site's user could plant them, with the responder running as root (as the role runs it).
"""

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

from ansible_collections.zerodowntime.acme.plugins.module_utils import responder as http_01, webroot
from ansible_collections.zerodowntime.acme.plugins.module_utils.responder import Responder, challenge_url, token_name
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ChallengeError, ConfigError

KEY_AUTHZ = "tok_en-1.thumbprint"
NOBODY = 65534


def _challenge_dir(root) -> str:
    return os.path.join(str(root), ".well-known", "acme-challenge")


def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("this test plays a webroot owned by another user: run it as root, as `make test` does")


@pytest.mark.parametrize("token", ["../../etc/passwd", "a/b", "a.b", "", "tök", "a b", "..", "a\x00", "tok\n",
                                   "a" * 256, None, 7])
def test_tokens_that_are_not_base64url_are_refused(token):
    with pytest.raises(ChallengeError, match="not base64url"):
        token_name(token)


def test_files_are_world_readable_in_a_folder_made_0755_and_removed_on_success(tmp_path):
    old = os.umask(0o077)
    try:
        with Responder(str(tmp_path)) as responder:
            responder.present("tok_en-1", KEY_AUTHZ)
            path = os.path.join(_challenge_dir(tmp_path), "tok_en-1")
            assert open(path).read() == KEY_AUTHZ
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
            for folder in (os.path.dirname(_challenge_dir(tmp_path)), _challenge_dir(tmp_path)):
                assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755
    finally:
        os.umask(old)
    assert not os.path.exists(path)


def test_files_are_removed_on_failure(tmp_path):
    with pytest.raises(RuntimeError):
        with Responder(str(tmp_path)) as responder:
            responder.present("tok", KEY_AUTHZ)
            raise RuntimeError("the CA said no")
    assert os.listdir(_challenge_dir(tmp_path)) == []


def test_missing_webroot_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        webroot.check_webroot(str(tmp_path / "missing"))


@pytest.mark.parametrize("planted", [".well-known", ".well-known/acme-challenge"])
def test_a_planted_folder_link_is_refused_and_nothing_is_written_through_it(tmp_path, planted):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "webroot"
    (root / ".well-known").mkdir(parents=True)
    if planted == ".well-known":
        os.rmdir(root / ".well-known")
    os.symlink(outside, root / planted)
    for attempt in (lambda: webroot.check_webroot(str(root)), lambda: Responder(str(root)).__enter__()):
        with pytest.raises(ConfigError, match="symbolic link"):
            attempt()
    assert os.listdir(outside) == []


def test_a_planted_token_link_is_replaced_never_followed(tmp_path):
    # The folder check keeps others from planting; this proves the second wall on its own: a link
    # already sitting at a token's name (however it got there) is removed, not written through.
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.chmod(victim, 0o600)
    os.makedirs(_challenge_dir(tmp_path / "webroot"))
    os.symlink(victim, os.path.join(_challenge_dir(tmp_path / "webroot"), "tok"))
    with Responder(str(tmp_path / "webroot")) as responder:
        responder.present("tok", KEY_AUTHZ)
        planted = os.path.join(_challenge_dir(tmp_path / "webroot"), "tok")
        assert not os.path.islink(planted) and open(planted).read() == KEY_AUTHZ
    assert victim.read_text() == "precious" and stat.S_IMODE(os.stat(victim).st_mode) == 0o600


def test_a_group_writable_challenge_folder_is_refused(tmp_path):
    os.makedirs(_challenge_dir(tmp_path))
    os.chmod(_challenge_dir(tmp_path), 0o775)
    with pytest.raises(ConfigError, match="writable by its group or by everyone"):
        webroot.check_webroot(str(tmp_path))


def test_a_challenge_folder_owned_by_another_user_is_refused(tmp_path):
    _needs_root()
    os.makedirs(_challenge_dir(tmp_path))
    os.chown(_challenge_dir(tmp_path), NOBODY, NOBODY)
    with pytest.raises(ConfigError, match=f"owned by uid {NOBODY}"):
        webroot.check_webroot(str(tmp_path))


def test_a_webroot_owned_by_another_user_is_fine_while_the_challenge_folder_is_roots(tmp_path):
    _needs_root()
    os.chown(tmp_path, NOBODY, NOBODY)
    with Responder(str(tmp_path)) as responder:
        responder.present("tok", KEY_AUTHZ)
        assert os.stat(_challenge_dir(tmp_path)).st_uid == 0


def test_a_challenge_folder_that_is_a_file_is_refused(tmp_path):
    os.makedirs(tmp_path / ".well-known")
    (tmp_path / ".well-known" / "acme-challenge").write_text("")
    with pytest.raises(ConfigError, match="not a folder"):
        webroot.check_webroot(str(tmp_path))


def test_read_only_webroot_is_a_config_error():
    # Root may write anywhere, so as root the check runs in a child process as 'nobody'.
    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o555)
    try:
        if os.geteuid() != 0:
            with pytest.raises(ConfigError, match="cannot create it"):
                webroot.check_webroot(folder)
            return
        script = ("from ansible_collections.zerodowntime.acme.plugins.module_utils import webroot\n"
                  f"webroot.check_webroot({folder!r})")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        run = subprocess.run([sys.executable, "-c", script], user=NOBODY, group=NOBODY, env=env,
                             capture_output=True, text=True, cwd="/", check=False)
        assert run.returncode == 1 and "ConfigError" in run.stderr and "cannot create it" in run.stderr
    finally:
        os.rmdir(folder)


# The self-check ------------------------------------------------------------------------------


class _Server:
    """An HTTP server on one loopback address serving a folder (or answering a fixed text)."""

    def __init__(self, family: int, address: str, port: int, folder: str, text: str | None = None) -> None:
        if text is None:
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
        else:
            class Fixed(http.server.BaseHTTPRequestHandler):
                def do_GET(self) -> None:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(text.encode())
            handler = Fixed
        handler.log_message = lambda *a: None

        class Server(http.server.ThreadingHTTPServer):
            address_family = family

        self.server = Server((address, port), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port(monkeypatch):
    """The self-check asks port 80, as the CA does; here it asks a free port instead."""
    free = _free_port()
    monkeypatch.setattr(http_01, "HTTP_PORT", free)
    return free


def _resolving(monkeypatch, *addresses):
    """Make dual.example resolve to `addresses` (the resolver is what this test fakes around)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "dual.example":
            return real(host, port, *args, **kwargs)
        return [((socket.AF_INET6 if ":" in a else socket.AF_INET), socket.SOCK_STREAM, 6, "",
                 (a, port) if ":" not in a else (a, port, 0, 0)) for a in addresses]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_self_check_passes_when_the_file_is_served(tmp_path, port):
    server = _Server(socket.AF_INET, "127.0.0.1", port, str(tmp_path))
    try:
        with Responder(str(tmp_path)) as responder:
            responder.present("tok", KEY_AUTHZ)
            assert responder.self_check("127.0.0.1", "tok", KEY_AUTHZ) is None
    finally:
        server.stop()


def test_self_check_fails_on_404_naming_url_address_and_webroot(tmp_path, port):
    server = _Server(socket.AF_INET, "127.0.0.1", port, str(tmp_path))
    try:
        with pytest.raises(ChallengeError) as failure:
            Responder("/var/www/well-known").self_check("127.0.0.1", "tok", KEY_AUTHZ)
    finally:
        server.stop()
    message = str(failure.value)
    assert "http://127.0.0.1/.well-known/acme-challenge/tok" in message
    assert "HTTP 404 from 127.0.0.1" in message and "/var/www/well-known" in message
    assert "no challenge was answered" in message.lower() and "Nothing was sent" not in message


def test_self_check_fails_when_the_ipv6_address_answers_wrong_and_names_it(tmp_path, port, monkeypatch):
    right = _Server(socket.AF_INET, "127.0.0.1", port, str(tmp_path))
    wrong = _Server(socket.AF_INET6, "::1", port, "", text="an old site")
    _resolving(monkeypatch, "127.0.0.1", "::1")
    try:
        with Responder(str(tmp_path)) as responder:
            responder.present("tok", KEY_AUTHZ)
            with pytest.raises(ChallengeError, match=r"other content \('an old site'\) from \[::1\]"):
                responder.self_check("dual.example", "tok", KEY_AUTHZ)
    finally:
        right.stop()
        wrong.stop()


def test_an_unreachable_ipv6_address_is_a_warning_when_ipv4_answers_right(tmp_path, port, monkeypatch):
    server = _Server(socket.AF_INET, "127.0.0.1", port, str(tmp_path))
    _resolving(monkeypatch, "::1", "127.0.0.1")  # nothing listens on [::1]:port
    try:
        with Responder(str(tmp_path)) as responder:
            responder.present("tok", KEY_AUTHZ)
            warning = responder.self_check("dual.example", "tok", KEY_AUTHZ)
    finally:
        server.stop()
    assert "not from the IPv6 address ::1" in warning and "Let's Encrypt tries IPv6 first" in warning


@pytest.mark.parametrize("family, address, host", [(socket.AF_INET6, "::1", "[::1]"),
                                                   (socket.AF_INET, "127.0.0.1", "127.0.0.1")])
def test_the_self_check_of_an_address_asks_that_address_with_it_as_the_host(tmp_path, port, family, address, host):
    # As the CA does for an IP identifier (RFC 8738): http://[::1]/..., Host: [::1].
    seen = []

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.headers["Host"], self.path))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(KEY_AUTHZ.encode())

        def log_message(self, *args) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        address_family = family

    server = Server((address, port), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert Responder(str(tmp_path)).self_check(address, "tok", KEY_AUTHZ) is None
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [(host, "/.well-known/acme-challenge/tok")]
    assert challenge_url(address, "tok") == f"http://{host}/.well-known/acme-challenge/tok"


def test_self_check_warns_when_the_name_does_not_resolve(tmp_path):
    warning = Responder(str(tmp_path)).self_check("no-such-name.invalid", "tok", KEY_AUTHZ)
    assert "does not resolve" in warning


def test_self_check_warns_when_nothing_listens(tmp_path, port):
    warning = Responder(str(tmp_path)).self_check("127.0.0.1", "tok", KEY_AUTHZ)
    assert "not reachable" in warning and "127.0.0.1" in warning


def test_a_folder_at_a_tokens_name_is_a_clear_error(tmp_path):
    os.makedirs(os.path.join(_challenge_dir(tmp_path), "tok"))
    with Responder(str(tmp_path)) as responder:
        with pytest.raises(ChallengeError, match="cannot write the challenge file tok"):
            responder.present("tok", KEY_AUTHZ)
