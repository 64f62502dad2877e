# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lock per cert_dir, held by every writer while it decides and writes: the modules (a play),
`zerodowntime-acme renew` (cron) and `placeholder`. Without it, two writers at once could each
prune the version the other had just made live.

The lock is an flock on CERT_DIR/.lock. A second writer waits, up to WAIT seconds, then fails with
a clear message. Within one process the lock is re-entrant, so the CLI can hold it around a call
that takes it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from typing import Iterator

from .errors import StorageError

LOCK_FILE = ".lock"
WAIT = 600.0
_POLL = 0.05

_held: dict[str, tuple[int, int]] = {}  # lock path -> (descriptor, depth)


@contextlib.contextmanager
def holding(cert_dir: str, wait: float | None = None) -> Iterator[None]:
    """Hold the lock of `cert_dir` (created, mode 0755, when missing) for the `with` block."""
    try:
        os.makedirs(cert_dir, mode=0o755, exist_ok=True)
        path = os.path.join(os.path.realpath(cert_dir), LOCK_FILE)
    except OSError as exc:
        raise StorageError(f"cannot create cert_dir {cert_dir}: {exc.strerror}") from exc
    if path in _held:
        fd, depth = _held[path]
        _held[path] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[path] = (fd, _held[path][1] - 1)
        return
    fd = _acquire(path, WAIT if wait is None else wait)
    _held[path] = (fd, 1)
    try:
        yield
    finally:
        del _held[path]
        os.close(fd)  # releases the flock


def _acquire(path: str, wait: float) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StorageError(f"cannot open the lock {path}: {exc.strerror}") from exc
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise StorageError(
                    f"another run (a play, or zerodowntime-acme renew) still holds {path} after {wait:.0f} s; "
                    "try again when it has finished") from None
            time.sleep(_POLL)
