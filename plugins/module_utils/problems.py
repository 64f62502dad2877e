# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CA's problem documents (RFC 7807, RFC 8555 6.7) and failed requests, as one sentence each.

A CA's text is input like any other: it is shortened and stripped of control characters before it
reaches a message, a log line or a terminal.
"""

from __future__ import annotations

import re
from typing import Any

ERROR_PREFIX = "urn:ietf:params:acme:error:"
_MAX_TEXT = 300
_MAX_SUBPROBLEMS = 5
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class Refused(Exception):
    """An answer this client will not take: too big, too slow, or a redirect away from https.
    The message names the URL and the reason."""


def code(problem: Any) -> str:
    """The problem's ACME code ('rateLimited', 'alreadyReplaced', ...), also for codes that the
    installed `acme` release does not know; '' when it is not an ACME problem."""
    typ = clean(getattr(problem, "typ", None))
    return typ[len(ERROR_PREFIX):] if typ.startswith(ERROR_PREFIX) else ""


def describe(problem: Any) -> str:
    """'rejectedIdentifier: the name is forbidden (for a.example); caa: ... (for b.example)'."""
    typ = clean(getattr(problem, "typ", None))
    typ = typ[len(ERROR_PREFIX):] if typ.startswith(ERROR_PREFIX) else typ
    detail = clean(getattr(problem, "detail", None))
    text = f"{typ}: {detail}" if typ and detail else typ or detail or "a problem without type or detail"
    identifier = getattr(problem, "identifier", None)
    value = clean(getattr(identifier, "value", None))
    if value:
        text += f" (for {value})"
    subproblems = getattr(problem, "subproblems", None) or ()
    if isinstance(subproblems, (list, tuple)) and subproblems:
        shown = [describe(sub) for sub in subproblems[:_MAX_SUBPROBLEMS]]
        more = len(subproblems) - len(shown)
        text += "; " + "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
    return text


def failure(what: str, url: str, error: BaseException) -> str:
    """What a failed step says, for the exceptions of the `acme` library and of `requests`, and
    for anything else the CA's answers made them raise."""
    # Imported here: only a run that talks to a CA has them (client.py reports their absence).
    import josepy as jose
    import requests
    from acme import errors as acme_errors
    from acme import messages

    if isinstance(error, Refused):
        return f"{what} failed: {error}"
    if isinstance(error, messages.Error):
        return f"{what} failed: {url} answered {describe(error)}"
    if isinstance(error, acme_errors.TimeoutError):
        return f"{what} timed out at {url}; the CA is slow or stuck, try again later"
    if isinstance(error, requests.exceptions.SSLError):
        return (f"{what} failed: the TLS certificate of {url} cannot be verified ({clean(error)}); for a "
                "private or test CA set ca_bundle to the CA certificate that signed it")
    if isinstance(error, requests.exceptions.Timeout):
        return f"{what} failed: {url} did not answer in time ({clean(error)}); try again later"
    if isinstance(error, requests.exceptions.RequestException):
        return f"{what} failed: cannot reach {url} ({clean(error)}); check directory_url and the network"
    if isinstance(error, acme_errors.ConflictError):
        return f"{what} failed: {url} answered 409 Conflict (Location: {clean(error.location)})"
    first = error.args[0] if error.args else None
    if isinstance(error, acme_errors.ClientError) and isinstance(first, requests.Response):
        return f"{what} failed: {url} answered HTTP {first.status_code} {clean(first.reason)}".rstrip()
    if isinstance(error, acme_errors.ClientError) and isinstance(first, tuple) and first \
            and isinstance(first[0], requests.Response):
        return f"{what} failed: {url} answered HTTP {first[0].status_code} with a malformed problem document"
    if isinstance(error, jose.DeserializationError):
        return f"{what} failed: {url} answered with a malformed ACME message ({clean(error)})"
    if isinstance(error, acme_errors.Error):
        return f"{what} failed at {url}: {clean(error) or type(error).__name__}"
    # Anything else was raised by an answer the library could not take (a wrong type, a missing
    # field): still the CA's answer, still a message rather than a traceback.
    return f"{what} failed: {url} sent an answer that cannot be used ({type(error).__name__}: {clean(error)})"


def clean(value: Any) -> str:
    """A server's text, fit for one line of a message: no control characters, at most _MAX_TEXT
    characters."""
    if value is None:
        return ""
    text = _UNPRINTABLE.sub(" ", str(value)).strip()
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "..."
