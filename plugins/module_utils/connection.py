# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One CA connection: what every front needs to talk to an ACME server, checked in one place,
declared once for the modules (ARGUMENT_SPEC, beside the `acme` doc fragment), and one factory for
the session. A new connection option is one edit here and one in the doc fragment."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import re
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from . import accountkeys
from .errors import ConfigError, DependencyError
from .options import check_types

if TYPE_CHECKING:
    from .client import Session, SessionPool

LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
DEFAULT_TIMEOUT = 300
MAX_TIMEOUT = 3600

# The modules' declaration of these options (community.crypto keeps its shared ACME options the
# same way); documented by the `zerodowntime.acme.acme` doc fragment.
ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    directory_url=dict(type="str", default=LETSENCRYPT),
    ca_bundle=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
    account_key=dict(type="path", no_log=False),
    timeout=dict(type="int", default=DEFAULT_TIMEOUT),
)

_CONTROL = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True)
class CAConnection:
    """The ACME server, how to trust it, which account key signs, and how long a run may take."""

    directory_url: str = LETSENCRYPT
    ca_bundle: str | None = None
    validate_certs: bool = True
    account_key: str | None = None
    timeout: int = DEFAULT_TIMEOUT

    @classmethod
    def take(cls, options: dict[str, Any]) -> CAConnection:
        """The connection options, removed from a dict of a front's options (absent ones keep
        their defaults)."""
        return cls(**{f.name: options.pop(f.name) for f in dataclasses.fields(cls) if f.name in options})

    def checked(self) -> CAConnection:
        """Raise ConfigError for a value that cannot work; return the connection with the
        account key's default path filled in."""
        check_types(self, {"directory_url": str, "ca_bundle": (str, type(None)), "validate_certs": bool,
                           "account_key": (str, type(None)), "timeout": int})
        url = self.directory_url
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) and not _CONTROL.search(url) else None
        try:
            port_ok = parts is not None and (parts.port or 443) > 0
        except ValueError:
            port_ok = False
        if parts is None or not parts.hostname or not port_ok:
            raise ConfigError(f"directory_url {url!r} is not a URL")
        if parts.scheme != "https":
            raise ConfigError(f"directory_url {url} is not https: RFC 8555 requires ACME over HTTPS, and every "
                              "real CA (and Pebble) serves it; use the https:// URL of the directory")
        if not isinstance(self.timeout, int) or not 0 < self.timeout <= MAX_TIMEOUT:
            raise ConfigError(f"timeout must be between 1 and {MAX_TIMEOUT} seconds, not {self.timeout!r}")
        return dataclasses.replace(self, account_key=self.account_key or accountkeys.default_path(url))

    def session(self, *, signed: bool = True, key_path: str | None = None, create_key: bool = True) -> Session:
        """An open session with this CA. `signed`: with the account key (or `key_path`), created
        when missing unless `create_key` is false; without it the session can only read."""
        require_acme()
        from .client import Session

        key = (key_path or self.checked().account_key) if signed else None
        shared = _SHARED.get()
        if shared is None:
            return Session(self, key, create_key=create_key)
        if not shared:
            from .client import SessionPool

            shared.append(SessionPool())
        return shared[0].session(self, key, create_key)


# Set by shared_sessions(): a list that holds the run's SessionPool once a session is needed (a run
# with nothing due never imports the client).
_SHARED: contextvars.ContextVar[list[SessionPool] | None] = contextvars.ContextVar(
    "zerodowntime_acme_sessions", default=None)


@contextlib.contextmanager
def shared_sessions() -> Iterator[None]:
    """Within: CAConnection.session() hands out one session per CA, account key and thread for the
    whole run (client.SessionPool), closed at the end. Threads started within must run in a copy
    of this context (contextvars.copy_context)."""
    token = _SHARED.set([])
    try:
        yield
    finally:
        pools = _SHARED.get() or []
        _SHARED.reset(token)
        for pool in pools:
            pool.close()


def require_acme() -> None:
    """Raise a clear error when the host lacks the libraries a CA conversation needs."""
    from . import client, keys

    keys.require_cryptography()
    if client.ACME_IMPORT_ERROR is not None:
        raise DependencyError(
            f"the Python library 'acme' is missing on this host ({client.ACME_IMPORT_ERROR}); "
            "install certbot's acme library (python3-acme, or pip install acme)"
        )
