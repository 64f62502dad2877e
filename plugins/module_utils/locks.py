# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lock per lineage, held by every writer of it while it decides and writes: the modules (a
play), `zerodowntime-acme renew` (cron, several lineages at once with --jobs), `placeholder` and
`receive`. Without it, two writers at once could each prune the version the other had just made
live. The files a cert_dir shares between its lineages (the reload-pending note, the hooks record)
have the cert_dir's own lock, taken only briefly, and after a lineage's lock when both are held.

The locks are flocks on CERT_DIR/.versions/.NAME.lock and CERT_DIR/.lock: names that start with a
dot, which no lineage name does, so that a lineage named `c.lock` is no one's lock. A second
writer waits, up to WAIT seconds, then fails with a clear message. Within one thread a lock is
re-entrant; two threads of one process exclude each other as two processes do.

A third lock, CERT_DIR/.hooks.lock, is held from "these services and hooks are due" until "they
ran and are recorded" (hooks.py), and handed to the programs it runs: a hook left running by a run
that was killed keeps it, so that the next run does not start that hook a second time beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from typing import Iterator

from .errors import StorageError

LOCK_FILE = ".lock"
HOOKS_LOCK_FILE = ".hooks.lock"

VERSIONS = ".versions"  # the lineages' own folder (lineage.py lays it out), where their locks live
WAIT = 600.0
_POLL = 0.05

_held: dict[tuple[int, str], tuple[int, int]] = {}  # (thread, lock path) -> (descriptor, depth)


@contextlib.contextmanager
def holding(cert_dir: str, name: str | None = None, wait: float | None = None) -> Iterator[None]:
    """Hold the lock of lineage `name` in `cert_dir`, or without a name the lock of the cert_dir's
    shared files, for the `with` block (the folders are created, mode 0755, when missing)."""
    try:
        folder = os.path.realpath(cert_dir) if name is None else os.path.join(os.path.realpath(cert_dir), VERSIONS)
        os.makedirs(folder, mode=0o755, exist_ok=True)
        path = os.path.join(folder, LOCK_FILE if name is None else f".{name}.lock")
    except OSError as exc:
        raise StorageError(f"cannot create cert_dir {cert_dir}: {exc.strerror}") from exc
    key = (threading.get_ident(), path)
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[key] = (fd, _held[key][1] - 1)
        return
    fd = _acquire(path, WAIT if wait is None else wait)
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        del _held[key]
        os.close(fd)  # releases the flock


@contextlib.contextmanager
def running_hooks(cert_dir: str, wait: float) -> Iterator[int]:
    """Hold CERT_DIR/.hooks.lock for the `with` block; yields its descriptor, for the programs that
    must keep it while they run. StorageError when it stays taken for `wait` seconds."""
    fd = _acquire(os.path.join(cert_dir, HOOKS_LOCK_FILE), wait,
                  "a service reload or deploy hook of an earlier run still runs (it holds {path}); what is due runs "
                  "once it has ended")
    try:
        yield fd
    finally:
        os.close(fd)


BUSY = "another run (a play, or zerodowntime-acme renew) still holds {path} after {wait:.0f} s; try again when it has finished"


def _acquire(path: str, wait: float, busy: str = BUSY) -> int:
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
                raise StorageError(busy.format(path=path, wait=wait)) from None
            time.sleep(_POLL)
