# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The http-01 responder: the one file that knows http-01 and webroots.

`Responder(webroot)` presents each challenge as a file under WEBROOT/.well-known/acme-challenge/,
self-checks it over plain HTTP as the CA will (every address of the name, IPv6 first), and
removes the files again whatever happened.

The webroot often belongs to a site's user, while this code runs as root. So the challenge folder
is opened without following links (O_NOFOLLOW) and refused when someone else could write to it,
and every file is created and removed relative to that open folder (dir_fd), with
O_CREAT|O_EXCL|O_NOFOLLOW: nothing planted in the webroot can redirect a write elsewhere.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from types import TracebackType

from . import addresses
from .errors import ChallengeError, ConfigError

CHALLENGE_DIR = os.path.join(".well-known", "acme-challenge")
URL_PATH = "/.well-known/acme-challenge/"
# RFC 8555 8.3: a token is base64url. Anything else could climb out of the webroot.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,255}")
# The CA fetches the challenge over plain HTTP on port 80 (RFC 8555 8.3).
HTTP_PORT = 80
_MAX_BODY = 4096
_REDIRECTS = (301, 302, 303, 307, 308)


def check_webroot(webroot: str) -> None:
    """Fail unless the challenge folder can be used safely: the webroot exists, no part of
    .well-known/acme-challenge is a link or a file, the folder is not writable by anyone but this
    user (or root), and this user can create it or write in it. Reads only."""
    fd = _open_challenge_dir(webroot, create=False)
    if fd is not None:
        os.close(fd)


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


class Responder:
    """The challenge files of one order. Leaving the `with` block removes them, whatever happened."""

    def __init__(self, webroot: str, timeout: float = 10) -> None:
        self.webroot = webroot
        self.timeout = timeout
        self._fd: int | None = None
        self._written: list[str] = []

    def __enter__(self) -> Responder:
        self._fd = _open_challenge_dir(self.webroot, create=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.clean_up()

    def present(self, token: str, key_authorization: str) -> None:
        """Write the key authorization for `token`, readable by nginx (0644 whatever the umask)."""
        if self._fd is None:
            raise RuntimeError("Responder.present() outside its `with` block")
        name = token_name(token)
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

    def self_check(self, domain: str, token: str, key_authorization: str) -> str | None:
        """Fetch the challenge URL from every address of `domain`, IPv6 first, as Let's Encrypt
        does. A wrong answer on any address raises. An unreachable name returns a warning, since a
        host may not reach itself (NAT hairpin, split DNS) while the CA can."""
        return _self_check(domain, token_name(token), key_authorization, self.webroot, self.timeout)

    def advice(self, domain: str, token: str) -> str:
        """What to check when the CA could not validate `domain`."""
        return (f"the CA fetches {challenge_url(domain, token)}: nginx must serve {self.webroot} for "
                f"{URL_PATH} on port 80, for this name, to the internet")


def _open_challenge_dir(webroot: str, create: bool) -> int | None:
    """An open descriptor of WEBROOT/.well-known/acme-challenge, opened without following links
    and checked (see check_webroot). Missing parts are created when `create`; otherwise None is
    returned when they are missing and could be created."""
    try:
        fd = os.open(webroot, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the user's own path may be a link
    except OSError as exc:
        raise ConfigError(
            f"the webroot {webroot} does not exist or is not a folder ({exc.strerror}); create it and make "
            f"nginx serve it for {URL_PATH} on port 80"
        ) from exc
    path = webroot
    try:
        for part in CHALLENGE_DIR.split(os.sep):
            path = os.path.join(path, part)
            if create:
                _make_folder(fd, part, path)
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except FileNotFoundError:
                if not os.access(os.path.dirname(path), os.W_OK | os.X_OK):
                    raise ConfigError(f"{path} does not exist, and this user cannot create it in "
                                      f"{os.path.dirname(path)}; create it (owned by root, mode 0755)") from None
                os.close(fd)
                return None
            except OSError as exc:
                raise ConfigError(_refusal(fd, part, path, exc)) from exc
            os.close(fd)
            fd = child
        _check_owner_and_mode(os.fstat(fd), path)
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"the challenge folder {path} is not writable by this user; fix its owner or mode")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _make_folder(parent_fd: int, name: str, path: str) -> None:
    try:
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    except FileExistsError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from exc
    # nginx's workers must read it: 0755 whatever the umask (set through a descriptor that does
    # not follow links, in case the name was swapped since).
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    try:
        os.fchmod(fd, 0o755)
    finally:
        os.close(fd)


def _refusal(parent_fd: int, name: str, path: str, exc: OSError) -> str:
    try:
        is_link = stat.S_ISLNK(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode)
    except OSError:
        is_link = False
    if is_link or exc.errno in (errno.ELOOP, errno.EMLINK):
        return (f"{path} is a symbolic link; refusing to follow it, since whoever can write to the webroot "
                "could point it anywhere. Replace it with a real folder owned by root, mode 0755")
    if exc.errno == errno.ENOTDIR:
        return f"{path} is not a folder; replace it with a folder owned by root, mode 0755"
    return f"cannot open {path}: {exc.strerror}"


def _check_owner_and_mode(st: os.stat_result, path: str) -> None:
    """Only root or the running user may own the challenge folder, and nobody else may write to it:
    whoever can write there can plant links or files where this process writes."""
    if st.st_uid not in (0, os.geteuid()):
        raise ConfigError(f"the challenge folder {path} is owned by uid {st.st_uid}, who could plant links in it; "
                          f"make it owned by root (chown root:root {path})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"the challenge folder {path} is writable by its group or by everyone "
                          f"(mode {stat.S_IMODE(st.st_mode):04o}), who could plant links in it; chmod 0755 {path}")


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
            f"file; nginx must serve {webroot} for {URL_PATH} on port 80 on every address of {domain} "
            f"(location ^~ {URL_PATH} {{ root {webroot}; }}). No challenge was answered, so no failed "
            "validation was spent at the CA"
        )
    if not answered_right:
        reasons = "; ".join(f"{_bracket(a)}: {why}" for _v4, a, why in unreachable)
        return f"self-check skipped for {domain}: {url} is not reachable from this host ({reasons})"
    v6_down = [a for is_v4, a, _why in unreachable if not is_v4]
    if v6_down and True in answered_right:
        return (f"self-check: {url} answers over IPv4, but not from the IPv6 address "
                f"{', '.join(v6_down)} of {domain}; Let's Encrypt tries IPv6 first, so make nginx listen on "
                "[::]:80 or remove the AAAA record")
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
