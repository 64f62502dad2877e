# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""http-01 through a webroot: token checks, challenge files, and the self-check over plain HTTP."""

from __future__ import annotations

import os
import re
from types import TracebackType

from .errors import ChallengeError, ConfigError

CHALLENGE_DIR = os.path.join(".well-known", "acme-challenge")
# RFC 8555 8.3: a token is base64url. Anything else could climb out of the webroot.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_BODY = 4096


def check_webroot(webroot: str) -> None:
    """Fail unless `webroot` is a folder this process can create the challenge files in."""
    if not os.path.isdir(webroot):
        raise ConfigError(
            f"the webroot {webroot} does not exist; create it and make nginx serve it for "
            "/.well-known/acme-challenge/ on port 80"
        )
    challenge_dir = os.path.join(webroot, CHALLENGE_DIR)
    nearest = challenge_dir if os.path.isdir(challenge_dir) else webroot
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise ConfigError(f"the webroot folder {nearest} is not writable by this user; fix its owner or mode")


def challenge_path(webroot: str, token: str) -> str:
    """Where the key authorization for `token` goes; refuses tokens that are not base64url."""
    if not _TOKEN.match(token):
        raise ChallengeError(
            f"the CA sent the challenge token {token!r}, which is not base64url; refusing to "
            "write it under the webroot (is directory_url the ACME server you meant?)"
        )
    return os.path.join(webroot, CHALLENGE_DIR, token)


def challenge_url(domain: str, token: str) -> str:
    return f"http://{domain}/.well-known/acme-challenge/{token}"


class ChallengeFiles:
    """The challenge files of one order; leaving the `with` block removes them, whatever happened."""

    def __init__(self, webroot: str) -> None:
        self.webroot = webroot
        self._written: list[str] = []

    def __enter__(self) -> ChallengeFiles:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove_all()

    def write(self, token: str, key_authorization: str) -> str:
        path = challenge_path(self.webroot, token)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        # The CA and nginx's workers must read it: 0644 whatever the umask.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._written.append(path)
        try:
            os.fchmod(fd, 0o644)
            os.write(fd, key_authorization.encode("ascii"))
        finally:
            os.close(fd)
        return path

    def remove_all(self) -> None:
        while self._written:
            try:
                os.unlink(self._written.pop())
            except FileNotFoundError:
                pass


def self_check(domain: str, token: str, key_authorization: str, webroot: str, timeout: float) -> str | None:
    """Fetch the challenge URL as the CA will. A wrong answer raises; an unreachable name returns a
    warning, since a host may not reach itself (NAT hairpin, split DNS) while the CA can."""
    # Imported here: urllib.request is slow to load, and only a due certificate needs it.
    import socket
    import urllib.error
    import urllib.request

    url = challenge_url(domain, token)
    # No proxy: the CA connects directly, and so must this check.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"User-Agent": "zerodowntime-acme self-check"})
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(_MAX_BODY).decode("utf-8", "replace").strip()
            status = response.status
    except urllib.error.HTTPError as exc:
        raise ChallengeError(_wrong_answer(url, f"HTTP {exc.code}", webroot)) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, socket.gaierror):
            return f"self-check skipped for {domain}: the name does not resolve from this host ({reason})"
        return f"self-check skipped for {domain}: {url} is not reachable from this host ({reason})"
    if body != key_authorization:
        shown = body[:80] + ("..." if len(body) > 80 else "")
        raise ChallengeError(_wrong_answer(url, f"HTTP {status} with other content ({shown!r})", webroot))
    return None


def _wrong_answer(url: str, answer: str, webroot: str) -> str:
    return (
        f"self-check failed: {url} answered {answer} instead of the challenge file; nginx must serve "
        f"{webroot} for /.well-known/acme-challenge/ on port 80 (location ^~ /.well-known/acme-challenge/ "
        f"{{ root {webroot}; }}). Nothing was sent to the CA, so no failed validation was spent"
    )
