# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many certificates of one host in one process: the host CLI's `renew`, and the module call that
takes a host's whole list.

What needs nothing from the CA is settled first, in this thread (a run with nothing due starts no
thread and opens no connection). The rest runs up to `jobs` at once, each certificate holding its
own lineage's lock and writing its own challenge answers, over one session per CA and account key
for the whole run. A certificate's failure is returned in its place and stops no other.
"""

from __future__ import annotations

import contextvars
import datetime
from typing import Sequence, Union

from . import connection, issuance
from .outcome import Outcome
from .spec import CertificateSpec

DEFAULT_JOBS = 4
MAX_JOBS = 32

Result = Union[Outcome, Exception]


def ensure_all(items: Sequence[tuple[CertificateSpec, bool]], *, jobs: int = DEFAULT_JOBS,
               check_mode: bool = False, now: datetime.datetime | None = None) -> list[Result]:
    """issuance.ensure for each (spec, force), in their order; an exception stands in its
    certificate's place."""
    if check_mode:  # decides only: nothing is written, nothing ordered, so nothing to overlap
        with connection.shared_sessions():
            return [_one(spec, force, True, now) for spec, force in items]
    settled = [_locally(spec, force, now) for spec, force in items]
    remote = [item for item, result in zip(items, settled) if result is None]
    if not remote:
        return [result for result in settled if result is not None]
    import concurrent.futures  # with logging and threading: a run with nothing due does without them

    with connection.shared_sessions():
        if jobs <= 1 or len(remote) <= 1:
            done = iter([_one(spec, force, False, now) for spec, force in remote])
        else:
            with concurrent.futures.ThreadPoolExecutor(max_workers=min(jobs, len(remote))) as pool:
                # Each task runs in a copy of this context: it sees the run's shared sessions.
                futures = [pool.submit(contextvars.copy_context().run, _one, spec, force, False, now)
                           for spec, force in remote]
                done = iter([future.result() for future in futures])
    return [next(done) if result is None else result for result in settled]


def _one(spec: CertificateSpec, force: bool, check_mode: bool, now: datetime.datetime | None) -> Result:
    try:
        return issuance.ensure(spec, force=force, check_mode=check_mode, now=now)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # stays with its certificate
        return exc


def _locally(spec: CertificateSpec, force: bool, now: datetime.datetime | None) -> Result | None:
    try:
        return issuance.ensure_locally(spec, force=force, now=now)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return exc
