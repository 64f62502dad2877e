# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The http-01 responder (responders.py's interface), loaded only when a certificate is due.

`HttpResponder(webroot)` presents each challenge as a file in the challenge folder (opened by
webroot.py without following links), self-checks it over plain HTTP as the CA will (every address
of the name, IPv6 first), and removes the files again whatever happened. Every file is created and
removed relative to that open folder (dir_fd), with O_CREAT|O_EXCL|O_NOFOLLOW: nothing planted in
the webroot can redirect a write elsewhere.
"""

from __future__ import annotations

import os
import re
from types import TracebackType

from . import addresses
from .errors import ChallengeError
from .responders import Challenge
from .webroot import CHALLENGE_DIR, URL_PATH, open_challenge_dir

# RFC 8555 8.3: a token is base64url. Anything else could climb out of the webroot.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,255}")
# The CA fetches the challenge over plain HTTP on port 80 (RFC 8555 8.3).
HTTP_PORT = 80
_MAX_BODY = 4096
_REDIRECTS = (301, 302, 303, 307, 308)


def token_name(token: str) -> str:
    """The token as a file name; refuses tokens that are not base64url."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ChallengeError(
            f"the CA sent the challenge token {token!r}, which is not base64url; refusing to "
            "write it under the webroot (is directory_url the ACME server you meant?)"
        )
    return token


def challenge_url(domain: str, token: str) -> str:
    return f"http://{addresses.host(domain)}{URL_PATH}{token}"


class HttpResponder:
    """The challenge files of one order. Leaving the `with` block removes them, whatever happened."""

    challenge_type = "http-01"

    def __init__(self, webroot: str, timeout: float = 10, check: bool = True) -> None:
        self.webroot = webroot
        self.timeout = timeout
        self.check = check
        self.warnings: list[str] = []
        self._fd: int | None = None
        self._written: list[str] = []

    def __enter__(self) -> HttpResponder:
        self._fd = open_challenge_dir(self.webroot, create=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.clean_up()

    def prepare(self, domains: list[str]) -> None:
        """Nothing more to check: the challenge folder was checked with the options and opened on
        entering the `with` block."""

    def present(self, challenge: Challenge) -> None:
        """Write the key authorization as a file named after the token, readable by the web server
        (0644 whatever the umask)."""
        if self._fd is None:
            raise RuntimeError("HttpResponder.present() outside its `with` block")
        name = token_name(challenge.token)
        key_authorization = challenge.key_authorization
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            try:
                fd = os.open(name, flags, 0o644, dir_fd=self._fd)
            except FileExistsError:
                # A leftover of a run cut short, or something planted: removed (unlink never
                # follows a link), then created anew.
                os.unlink(name, dir_fd=self._fd)
                fd = os.open(name, flags, 0o644, dir_fd=self._fd)
            self._written.append(name)
            try:
                os.fchmod(fd, 0o644)
                os.write(fd, key_authorization.encode("ascii"))
            finally:
                os.close(fd)
        except OSError as exc:
            raise ChallengeError(f"cannot write the challenge file {name} in {os.path.join(self.webroot, CHALLENGE_DIR)}: "
                                 f"{exc.strerror}") from exc

    def clean_up(self) -> None:
        if self._fd is None:
            return
        while self._written:
            try:
                os.unlink(self._written.pop(), dir_fd=self._fd)
            except FileNotFoundError:
                pass
        os.close(self._fd)
        self._fd = None

    def self_check(self, challenge: Challenge) -> str | None:
        """Fetch the challenge URL from every address of the name, IPv6 first, as Let's Encrypt
        does. A wrong answer on any address raises. An unreachable name returns a warning, since a
        host may not reach itself (NAT hairpin, split DNS) while the CA can."""
        if not self.check:
            return None
        return _self_check(challenge.identifier, token_name(challenge.token), challenge.key_authorization,
                           self.webroot, self.timeout)

    def advice(self, challenge: Challenge) -> str:
        """What to check when the CA could not validate the name."""
        return (f"the CA fetches {challenge_url(challenge.identifier, challenge.token)}: the web server must serve "
                f"{self.webroot} for {URL_PATH} on port 80, for this name, to the internet")


def _self_check(domain: str, token: str, key_authorization: str, webroot: str, timeout: float) -> str | None:
    # Imported here: only a due certificate needs them.
    import socket

    url = challenge_url(domain, token)
    try:
        infos = socket.getaddrinfo(domain, HTTP_PORT, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return f"self-check skipped for {domain}: the name does not resolve from this host ({exc})"
    # IPv6 first, as Let's Encrypt tries it first.
    addresses = sorted({(info[0] != socket.AF_INET6, str(info[4][0])) for info in infos})
    unreachable: list[tuple[bool, str, str]] = []
    answered_right = []
    for is_v4, address in addresses:
        try:
            status, body = _fetch(address, domain, token, timeout)
        except (OSError, ValueError) as exc:
            unreachable.append((is_v4, address, str(exc) or type(exc).__name__))
            continue
        if status == 200 and body == key_authorization:
            answered_right.append(is_v4)
            continue
        shown = body[:80] + ("..." if len(body) > 80 else "")
        answer = f"HTTP {status}" if status != 200 else f"HTTP 200 with other content ({shown!r})"
        raise ChallengeError(
            f"self-check failed: {url} answered {answer} from {_bracket(address)} instead of the challenge "
            f"file; the web server must serve {webroot} for {URL_PATH} on port 80 on every address of {domain} "
            f"(nginx: location ^~ {URL_PATH} {{ root {webroot}; }}; Apache: Alias {URL_PATH} {webroot}{URL_PATH}). "
            "No challenge was answered, so no failed "
            "validation was spent at the CA"
        )
    if not answered_right:
        reasons = "; ".join(f"{_bracket(a)}: {why}" for _v4, a, why in unreachable)
        return f"self-check skipped for {domain}: {url} is not reachable from this host ({reasons})"
    v6_down = [a for is_v4, a, _why in unreachable if not is_v4]
    if v6_down and True in answered_right:
        return (f"self-check: {url} answers over IPv4, but not from the IPv6 address "
                f"{', '.join(v6_down)} of {domain}; Let's Encrypt tries IPv6 first, so make the web server "
                "listen on [::]:80 or remove the AAAA record")
    return None


def _fetch(address: str, domain: str, token: str, timeout: float) -> tuple[int, str]:
    """GET the challenge path from one address, with the name in the Host header."""
    import http.client

    connection = http.client.HTTPConnection(address, HTTP_PORT, timeout=timeout)
    try:
        connection.request("GET", URL_PATH + token,
                           headers={"Host": addresses.host(domain), "User-Agent": "zerodowntime-acme self-check"})
        response = connection.getresponse()
        location = response.getheader("Location")
        if response.status in _REDIRECTS and location:
            return _follow(location, timeout)
        return response.status, _text(response.read(_MAX_BODY))
    finally:
        connection.close()


def _follow(location: str, timeout: float) -> tuple[int, str]:
    """Follow a redirect as the CA does: to any URL, over https too, without checking the
    certificate there (Let's Encrypt doesn't: the key authorization is what proves control)."""
    import ssl
    import urllib.error
    import urllib.request

    if not location.startswith(("http://", "https://")):
        raise ValueError(f"redirect to {location!r}, which the CA would not follow")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(location, headers={"User-Agent": "zerodowntime-acme self-check"})
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status), _text(response.read(_MAX_BODY))
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace").strip()


def _bracket(address: str) -> str:
    return f"[{address}]" if ":" in address else address
