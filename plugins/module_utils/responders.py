# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seam between an order and the way its challenges are answered: one interface, one
implementation per challenge type, chosen here and nowhere else.

A responder checks before the order that it can answer, presents each pending challenge (what the client hands out: identifier, token, key
authorization), checks it as the CA will before the CA is asked, says what to check when the CA
could not validate, and cleans up when its `with` block ends, whatever happened (what it could not
clean up is a warning). The client knows challenges only as pending work; ordering.py knows only
this interface. A challenge type is one file that implements it (responder.py: http-01, dns01.py:
dns-01), its options' check in check_options(), and one line in for_certificate().
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


CHALLENGES = ("http-01", "dns-01")


class Responder(Protocol):
    challenge_type: str  # the type the CA must offer ("http-01")
    warnings: list[str]  # what went wrong without failing the order (a record left behind)

    def __enter__(self) -> Responder: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def prepare(self, domains: list[str]) -> None:
        """Before any order: raise ChallengeError when the challenges of `domains` could not be
        presented (the CA would count a failed validation)."""

    def present(self, challenge: Challenge) -> None:
        """Make the CA's validation of `challenge` succeed."""

    def self_check(self, challenge: Challenge) -> str | None:
        """Check it as the CA will (unless the certificate's self_check is off); raise
        ChallengeError when it would fail, return a warning when it cannot tell (the host may not
        see what the CA sees)."""

    def advice(self, challenge: Challenge) -> str:
        """What to check when the CA could not validate it."""


def check_options(spec: Any) -> None:
    """The options of the certificate's challenge type, checked before any order (reads only)."""
    if spec.challenge not in CHALLENGES:
        raise ConfigError(f"challenge must be one of {', '.join(CHALLENGES)}, not {spec.challenge!r}")
    if spec.challenge == "dns-01":
        from .addresses import ip
        from .dnsconfig import parse

        address = next((name for name in spec.domains if ip(name) is not None), None)
        if address:
            raise ConfigError(f"{address} is an IP address, which the CA validates over http-01 only (RFC 8738): put "
                              "it in a certificate of its own with challenge http-01")
        parse(spec.dns, spec.domains)
        return
    wildcard = next((name for name in spec.domains if name.startswith("*.")), None)
    if wildcard:
        raise ConfigError(f"{wildcard} is a wildcard, which the CA validates over dns-01 only: set challenge: dns-01 "
                          "and its dns options, or list the names themselves")
    if spec.dns:
        raise ConfigError("the dns option is for challenge dns-01; this certificate uses http-01")
    if not spec.webroot:
        raise ConfigError("webroot is required: the http-01 challenge is answered from a file in it, which the web "
                          "server serves on port 80")
    from .webroot import check_webroot  # the http-01 responder's folder

    check_webroot(spec.webroot)


def for_certificate(spec: Any, timeout: float) -> Responder:
    """The responder of the certificate's challenge type. Loaded only when a certificate is due."""
    if spec.challenge == "dns-01":
        from .dns01 import DnsResponder
        from .dnsconfig import parse

        return DnsResponder(parse(spec.dns, spec.domains), timeout, check=spec.self_check)
    from .responder import HttpResponder

    return HttpResponder(spec.webroot, timeout, check=spec.self_check)
