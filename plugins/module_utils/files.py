# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small files the engine keeps beside the certificates (meta.json, ari.json, backoff.json, the
metrics file, an account key): read one as a JSON object, and replace one in a single rename, so
that a reader or a crash sees the old file or the new one, never half of one.

Every file is created with O_EXCL|O_NOFOLLOW under a name nobody can guess in advance: a link that
someone planted in a folder the engine writes to is never followed.
"""

from __future__ import annotations

import json
import os
from typing import Any

# State files are small; a larger one is not ours, and parsing it is not worth the memory.
MAX_STATE_BYTES = 1 << 20


def read_json_object(path: str) -> dict[str, Any]:
    """The JSON object in `path`; {} when the file is missing, unreadable, too big, too deeply
    nested or not an object (these files are state the engine can rebuild, never input it must
    refuse)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_STATE_BYTES + 1)
    except OSError:
        return {}
    if len(raw) > MAX_STATE_BYTES:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: str, data: dict[str, Any], mode: int = 0o644) -> None:
    replace(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), mode)


def replace(path: str, data: bytes, mode: int = 0o644, uid: int = -1, gid: int = -1) -> None:
    """Write `data` to a new, randomly named file beside `path` (fsynced, with `mode` whatever the
    umask, and `uid`/`gid` unless -1), then rename it over `path`. A link at `path` is replaced,
    never followed."""
    import tempfile  # (and shutil, random): only for a write, which a run with nothing due never makes

    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        _fill(fd, data, mode, uid, gid)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def write_new(path: str, data: bytes, mode: int, uid: int = -1, gid: int = -1) -> None:
    """Create `path` with `mode` (whatever the umask) and `uid`/`gid` (unless -1), write `data` and
    fsync it. Refuses a path that exists already, a link included."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode & 0o600)
    _fill(fd, data, mode, uid, gid)


def _fill(fd: int, data: bytes, mode: int, uid: int = -1, gid: int = -1) -> None:
    """Write all of `data` to the new file `fd`, give it its owner and mode, fsync and close it.
    The owner comes first, so that the file is never readable by the group it is leaving."""
    try:
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
