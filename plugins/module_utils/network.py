# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP to the ACME server: the library's ClientNetwork, with the retries a CA asks for.

- A rejected nonce (badNonce) is retried up to BAD_NONCE_RETRIES times (RFC 8555 6.5); the library
  retries once only, and Pebble rejects 5% of nonces on purpose.
- A 429 or 503 with a Retry-After the run can afford (up to MAX_WAIT) is waited out and retried, a
  POST with a fresh nonce. A longer Retry-After is not slept through: the request fails at once,
  and `throttled_until` tells the caller (the cron path's backoff) when the CA wants to hear again.
"""

from __future__ import annotations

import datetime
import email.utils
import time
from typing import Any

try:
    import requests
    from acme import client as acme_client
    from acme import errors as acme_errors
    from acme import messages
except ImportError:  # client.py reports the missing library
    _ClientNetwork: Any = object
else:
    _ClientNetwork = acme_client.ClientNetwork

BAD_NONCE_RETRIES = 5
THROTTLE_STATUSES = (429, 503)
THROTTLE_RETRIES = 3
MAX_WAIT = datetime.timedelta(seconds=60)
# A 429/503 without a readable Retry-After: wait a little, as for a hint of that length.
DEFAULT_WAIT = datetime.timedelta(seconds=5)


def retry_after(response: requests.Response, default: datetime.timedelta,
                now: datetime.datetime | None = None) -> datetime.timedelta:
    """A response's Retry-After (seconds or an HTTP date) as a duration; `default` when absent or
    unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return datetime.timedelta(seconds=int(value))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return max(datetime.timedelta(0), moment - (now or datetime.datetime.now(datetime.timezone.utc)))


class Network(_ClientNetwork):
    """ClientNetwork that retries rejected nonces and waits out short Retry-After hints."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.throttled_until: datetime.datetime | None = None
        self._wait: datetime.timedelta | None = None  # the last response's affordable wait, if throttled

    def _send_request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        for attempt in range(THROTTLE_RETRIES + 1):
            response: requests.Response = super()._send_request(method, url, *args, **kwargs)
            self._wait = self._throttle(response)
            # A POST cannot be sent twice (its nonce is spent): post() signs it anew.
            if self._wait is None or method == "POST" or attempt == THROTTLE_RETRIES:
                return response
            time.sleep(self._wait.total_seconds())
        return response  # not reached; for the type checker

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:
        bad_nonces = throttles = 0
        while True:
            try:
                response: requests.Response = self._post_once(*args, **kwargs)
                return response
            except (messages.Error, acme_errors.ClientError) as error:
                if isinstance(error, messages.Error) and error.code == "badNonce" and bad_nonces < BAD_NONCE_RETRIES:
                    bad_nonces += 1
                    continue
                if self._wait is not None and throttles < THROTTLE_RETRIES:
                    throttles += 1
                    time.sleep(self._wait.total_seconds())
                    continue
                raise

    def _throttle(self, response: requests.Response) -> datetime.timedelta | None:
        """For a 429/503: note when the CA wants to hear again, and return the wait when it is short
        enough to sleep through."""
        if response.status_code not in THROTTLE_STATUSES:
            return None
        wait = retry_after(response, DEFAULT_WAIT)
        self.throttled_until = datetime.datetime.now(datetime.timezone.utc) + wait
        return wait if wait <= MAX_WAIT else None
