"""The http-01 responder: tests plugins/module_utils/responder.py (the challenge files and the
self-check as the CA will fetch them).
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import stat
import threading
from typing import NamedTuple

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import responder as http_01
from ansible_collections.zerodowntime.acme.plugins.module_utils.responder import HttpResponder, challenge_url, token_name
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ChallengeError

KEY_AUTHZ = "tok_en-1.thumbprint"


class _Pending(NamedTuple):
    """A pending challenge as the client hands it to a responder."""

    token: str
    identifier: str
    key_authorization: str


def _challenge(token: str, identifier: str = "127.0.0.1") -> _Pending:
    return _Pending(token, identifier, KEY_AUTHZ)


def _challenge_dir(root) -> str:
    return os.path.join(str(root), ".well-known", "acme-challenge")


@pytest.mark.parametrize("token", ["../../etc/passwd", "a/b", "a.b", "", "tök", "a b", "..", "a\x00", "tok\n",
                                   "a" * 256, None, 7])
def test_tokens_that_are_not_base64url_are_refused(token):
    with pytest.raises(ChallengeError, match="not base64url"):
        token_name(token)


def test_files_are_world_readable_in_a_folder_made_0755_and_removed_on_success(tmp_path):
    old = os.umask(0o077)
    try:
        with HttpResponder(str(tmp_path)) as responder:
            responder.present(_challenge("tok_en-1"))
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
        with HttpResponder(str(tmp_path)) as responder:
            responder.present(_challenge("tok"))
            raise RuntimeError("the CA said no")
    assert os.listdir(_challenge_dir(tmp_path)) == []


def test_a_planted_token_link_is_replaced_never_followed(tmp_path):
    # The folder check keeps others from planting; this proves the second wall on its own: a link
    # already sitting at a token's name (however it got there) is removed, not written through.
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.chmod(victim, 0o600)
    os.makedirs(_challenge_dir(tmp_path / "webroot"))
    os.symlink(victim, os.path.join(_challenge_dir(tmp_path / "webroot"), "tok"))
    with HttpResponder(str(tmp_path / "webroot")) as responder:
        responder.present(_challenge("tok"))
        planted = os.path.join(_challenge_dir(tmp_path / "webroot"), "tok")
        assert not os.path.islink(planted) and open(planted).read() == KEY_AUTHZ
    assert victim.read_text() == "precious" and stat.S_IMODE(os.stat(victim).st_mode) == 0o600


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
        with HttpResponder(str(tmp_path)) as responder:
            responder.present(_challenge("tok"))
            assert responder.self_check(_challenge("tok", "127.0.0.1")) is None
    finally:
        server.stop()


def test_self_check_fails_on_404_naming_url_address_and_webroot(tmp_path, port):
    server = _Server(socket.AF_INET, "127.0.0.1", port, str(tmp_path))
    try:
        with pytest.raises(ChallengeError) as failure:
            HttpResponder("/var/www/well-known").self_check(_challenge("tok", "127.0.0.1"))
    finally:
        server.stop()
    message = str(failure.value)
    assert "http://127.0.0.1/.well-known/acme-challenge/tok" in message
    assert "HTTP 404 from 127.0.0.1" in message and "/var/www/well-known" in message
    assert "no challenge was answered" in message.lower() and "Nothing was sent" not in message
    # What to write, for each web server the collection has a role for.
    assert "location ^~ /.well-known/acme-challenge/ { root /var/www/well-known; }" in message
    assert "Alias /.well-known/acme-challenge/ /var/www/well-known/.well-known/acme-challenge/" in message


def test_self_check_fails_when_the_ipv6_address_answers_wrong_and_names_it(tmp_path, port, monkeypatch):
    right = _Server(socket.AF_INET, "127.0.0.1", port, str(tmp_path))
    wrong = _Server(socket.AF_INET6, "::1", port, "", text="an old site")
    _resolving(monkeypatch, "127.0.0.1", "::1")
    try:
        with HttpResponder(str(tmp_path)) as responder:
            responder.present(_challenge("tok"))
            with pytest.raises(ChallengeError, match=r"other content \('an old site'\) from \[::1\]"):
                responder.self_check(_challenge("tok", "dual.example"))
    finally:
        right.stop()
        wrong.stop()


def test_an_unreachable_ipv6_address_is_a_warning_when_ipv4_answers_right(tmp_path, port, monkeypatch):
    server = _Server(socket.AF_INET, "127.0.0.1", port, str(tmp_path))
    _resolving(monkeypatch, "::1", "127.0.0.1")  # nothing listens on [::1]:port
    try:
        with HttpResponder(str(tmp_path)) as responder:
            responder.present(_challenge("tok"))
            warning = responder.self_check(_challenge("tok", "dual.example"))
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
        assert HttpResponder(str(tmp_path)).self_check(_challenge("tok", address)) is None
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [(host, "/.well-known/acme-challenge/tok")]
    assert challenge_url(address, "tok") == f"http://{host}/.well-known/acme-challenge/tok"


def test_self_check_warns_when_the_name_does_not_resolve(tmp_path):
    warning = HttpResponder(str(tmp_path)).self_check(_challenge("tok", "no-such-name.invalid"))
    assert "does not resolve" in warning


def test_self_check_warns_when_nothing_listens(tmp_path, port):
    warning = HttpResponder(str(tmp_path)).self_check(_challenge("tok", "127.0.0.1"))
    assert "not reachable" in warning and "127.0.0.1" in warning


def test_a_folder_at_a_tokens_name_is_a_clear_error(tmp_path):
    os.makedirs(os.path.join(_challenge_dir(tmp_path), "tok"))
    with HttpResponder(str(tmp_path)) as responder:
        with pytest.raises(ChallengeError, match="cannot write the challenge file tok"):
            responder.present(_challenge("tok"))
