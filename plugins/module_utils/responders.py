# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seam between an order and the way its challenges are answered: one interface, one
implementation per challenge type, chosen here and nowhere else.

A responder presents each pending challenge (what the client hands out: identifier, token, key
authorization), checks it as the CA will before the CA is asked, says what to check when the CA
could not validate, and cleans up when its `with` block ends, whatever happened. The client knows
challenges only as pending work; ordering.py knows only this interface. A new challenge type
(dns-01) is one file that implements it, its check in check_options(), and one line in
for_certificate().
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol

from .errors import ConfigError


class Challenge(Protocol):
    """One pending challenge (client.Pending)."""

    @property
    def identifier(self) -> str: ...

    @property
    def token(self) -> str: ...

    @property
    def key_authorization(self) -> str: ...


class Responder(Protocol):
    challenge_type: str  # the type the CA must offer ("http-01")

    def __enter__(self) -> Responder: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def present(self, challenge: Challenge) -> None:
        """Make the CA's validation of `challenge` succeed."""

    def self_check(self, challenge: Challenge) -> str | None:
        """Check it as the CA will; raise ChallengeError when it would fail, return a warning when
        it cannot tell (the host may not see what the CA sees)."""

    def advice(self, challenge: Challenge) -> str:
        """What to check when the CA could not validate it."""


def check_options(spec: Any) -> None:
    """The options of the certificate's challenge type, checked before any order (reads only)."""
    if not spec.webroot:
        raise ConfigError("webroot is required: the http-01 challenge is answered from a file in it, which the web "
                          "server serves on port 80")
    from .webroot import check_webroot  # the http-01 responder's folder

    check_webroot(spec.webroot)


def for_certificate(spec: Any, timeout: float) -> Responder:
    """The responder of the certificate's challenge type. Loaded only when a certificate is due."""
    from .responder import HttpResponder

    return HttpResponder(spec.webroot, timeout)
