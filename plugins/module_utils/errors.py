# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception hierarchy for the engine.

Every front (module, host CLI) catches `AcmeError` and shows its message as it is, so each message
says which step failed, for which name or URL, what the other side answered, and what to check next.
"""

from __future__ import annotations

import datetime


class AcmeError(Exception):
    """Base of every error the engine raises on purpose."""


class ConfigError(AcmeError):
    """Bad input, found before anything is ordered or written."""


class DependencyError(AcmeError):
    """A Python library the engine needs is missing on the host that runs it."""


class AccountError(AcmeError):
    """The account key or the ACME account cannot be used."""


class ChallengeError(AcmeError):
    """A challenge cannot succeed: it could not be presented, its self-check or the CA's
    validation failed."""


class CAError(AcmeError):
    """The ACME server refused a request or could not be reached. `retry_after` is set when the CA
    asked (429/503 Retry-After) not to be asked again before then."""

    def __init__(self, message: str, retry_after: datetime.datetime | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageError(AcmeError):
    """A certificate's files could not be read or written."""
