# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP to the ACME server: the library's ClientNetwork (signing, nonces, problem documents), with
the limits and retries a run needs against a busy, broken or hostile CA.

- Every request has a total deadline: the run's (`timeout`) and at most NETWORK_TIMEOUT of its own.
  The body is read a piece at a time, so a server that drips bytes is cut off at the deadline.
- A body larger than MAX_BODY is refused, and so is a redirect from https to plain http.
- A rejected nonce (badNonce) is retried up to BAD_NONCE_RETRIES times (RFC 8555 6.5); the library
  retries once only, and Pebble rejects 5% of nonces on purpose.
- Trouble that passes is retried up to RETRIES times: 500, 502 and 504 answers and broken
  connections after a growing pause, 429 and 503 after their Retry-After when it is short
  (MAX_WAIT). A POST is signed again with a fresh nonce. Every wait must fit the deadline.
  A longer Retry-After fails at once, and `throttled_until` tells the caller (the cron path's
  backoff) when the CA wants to hear again.
"""

from __future__ import annotations

import datetime
import http.client
import time
import urllib.parse
from typing import Any

from . import problems, times

try:
    import requests
    from acme import client as acme_client
    from acme import errors as acme_errors
    from acme import messages
except ImportError:  # client.py reports the missing library
    _ClientNetwork: Any = object
    _Session: Any = object
else:
    _ClientNetwork = acme_client.ClientNetwork
    _Session = requests.Session

NETWORK_TIMEOUT = 30
CONNECT_TIMEOUT = 10
MAX_BODY = 1 << 20
BAD_NONCE_RETRIES = 5
RETRIES = 3
THROTTLE_STATUSES = (429, 503)
TRANSIENT_STATUSES = (500, 502, 504)
MAX_WAIT = datetime.timedelta(seconds=60)
# The pause before the 1st, 2nd and 3rd retry of a request that failed for a passing reason.
PAUSES = (datetime.timedelta(seconds=1), datetime.timedelta(seconds=2), datetime.timedelta(seconds=4))


class _NoDowngradeSession(_Session):
    """requests' Session that refuses to follow a redirect from https to anything but https."""

    def get_redirect_target(self, resp: Any) -> Any:
        target = super().get_redirect_target(resp)
        if target and str(resp.url).lower().startswith("https:"):
            absolute = urllib.parse.urljoin(str(resp.url), target)
            if not absolute.lower().startswith("https:"):
                raise problems.Refused(f"{resp.url} redirected to {problems.clean(absolute)}; refusing to leave "
                                       "https for plain http")
        return target


class Network(_ClientNetwork):
    """ClientNetwork with a deadline, a size limit, no downgrade, and bounded retries."""

    def __init__(self, *args: Any, deadline: float | None = None, **kwargs: Any) -> None:
        """`deadline`: a time.monotonic() by which every request of the run must be answered."""
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self.throttled_until: datetime.datetime | None = None
        self._retry_wait: datetime.timedelta | None = None  # how long to wait before retrying the last POST
        self._attempt = 0
        self.session.close()
        session = _NoDowngradeSession()
        adapter = requests.adapters.HTTPAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self.session: requests.Session = session

    # Requests ------------------------------------------------------------------------------------

    def _send_request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        """One request with its retries (a POST is retried by post(), which signs it anew)."""
        attempt = self._attempt if method == "POST" else 0
        while True:
            try:
                response = self._request_once(method, url, *args, **kwargs)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
                self._retry_wait = self._affordable(PAUSES[min(attempt, len(PAUSES) - 1)], attempt)
                if method == "POST" or self._retry_wait is None:
                    raise
            else:
                self._retry_wait = self._wait_for(response, attempt)
                if response.status_code not in THROTTLE_STATUSES:
                    self.throttled_until = None
                if method == "POST" or self._retry_wait is None:
                    return response
                response.close()
            time.sleep(self._retry_wait.total_seconds())
            attempt += 1

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:
        bad_nonces = 0
        self._attempt = 0
        while True:
            self._retry_wait = None
            try:
                response: requests.Response = self._post_once(*args, **kwargs)
                return response
            except messages.Error as error:
                if problems.code(error) == "badNonce" and bad_nonces < BAD_NONCE_RETRIES:
                    bad_nonces += 1
                    continue
                if self._retry_wait is None:
                    raise
            except (acme_errors.ClientError, requests.exceptions.ConnectionError, requests.exceptions.Timeout):
                if self._retry_wait is None:
                    raise
            time.sleep(self._retry_wait.total_seconds())
            self._attempt += 1

    def _request_once(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        """Send one request and read its whole body within the deadline and the size limit."""
        left = self._time_left(url)
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("User-Agent", self.user_agent)
        headers["Accept-Encoding"] = "identity"  # bodies are small; and what is read is what was sent
        kwargs.update(headers=headers, verify=self.verify_ssl, stream=True,
                      timeout=(min(CONNECT_TIMEOUT, left), left))
        until = time.monotonic() + left
        response: requests.Response = self.session.request(method, url, *args, **kwargs)
        try:
            self._read_body(response, url, until)
        except BaseException:
            response.close()
            raise
        # As the library does: bodies are UTF-8, never guessed at.
        response.encoding = "utf-8"
        return response

    def _read_body(self, response: requests.Response, url: str, until: float) -> None:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise problems.Refused(f"{url} answered with a body of {declared} bytes; refusing more than {MAX_BODY}")
        raw: Any = response.raw
        # One receive at a time (read1), so that the deadline is checked between pieces: urllib3's
        # own read1 (2.3 and later), or else that of the http.client response below it (Debian 12).
        own = getattr(raw, "read1", None)
        read1 = own or raw._fp.read1
        body = bytearray()
        try:
            while True:
                if time.monotonic() > until:
                    raise problems.Refused(f"{url} did not send its whole answer in time; the CA is too slow, "
                                           "try again later")
                piece = read1(65536)
                if not piece:
                    if own is None:
                        # As http.client's read() does at the end: otherwise the connection, back in
                        # the pool, refuses its next request (ResponseNotReady) after sending it.
                        raw._fp.close()
                    break
                body += piece
                if len(body) > MAX_BODY:
                    raise problems.Refused(f"{url} answered with more than {MAX_BODY} bytes; refusing it")
        except (http.client.HTTPException, OSError, ValueError) as exc:
            raise requests.exceptions.ConnectionError(f"the connection to {url} broke during the answer ({exc})") from exc
        response._content = bytes(body)
        response._content_consumed = True  # type: ignore[attr-defined]
        raw.release_conn()

    def _time_left(self, url: str) -> float:
        """Seconds this request may take: NETWORK_TIMEOUT, or less when the run's deadline is near."""
        if self.deadline is None:
            return NETWORK_TIMEOUT
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise problems.Refused(f"no time was left for {url} within the run's timeout")
        return min(NETWORK_TIMEOUT, left)

    # Waits ---------------------------------------------------------------------------------------

    def _wait_for(self, response: requests.Response, attempt: int) -> datetime.timedelta | None:
        """How long to wait before sending this request again, or None when it must not be: the
        answer is final, the retries are spent, or the wait would not fit the deadline."""
        status = response.status_code
        pause = PAUSES[min(attempt, len(PAUSES) - 1)]
        if status in TRANSIENT_STATUSES:
            return self._affordable(times.retry_after(response.headers.get("Retry-After"), pause) or pause, attempt)
        if status not in THROTTLE_STATUSES:
            return None
        wait = times.retry_after(response.headers.get("Retry-After"), pause) or pause
        self.throttled_until = times.now() + wait
        return self._affordable(wait, attempt) if wait <= MAX_WAIT else None

    def _affordable(self, wait: datetime.timedelta, attempt: int) -> datetime.timedelta | None:
        if attempt >= RETRIES:
            return None
        if self.deadline is not None and time.monotonic() + wait.total_seconds() >= self.deadline:
            return None
        return wait
