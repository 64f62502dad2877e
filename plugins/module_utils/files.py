# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small files the engine keeps beside the certificates (meta.json, ari.json, backoff.json, the
metrics file, an account key): read one as a JSON object, and replace one in a single rename, so
that a reader or a crash sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
from typing import Any


def read_json_object(path: str) -> dict[str, Any]:
    """The JSON object in `path`; {} when the file is missing, unreadable or not an object (these
    files are state the engine can rebuild, never input it must refuse)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: str, data: dict[str, Any], mode: int = 0o644) -> None:
    replace(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), mode)


def replace(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to a new file beside `path` (fsynced, with `mode` whatever the umask), then
    rename it over `path`."""
    tmp = f"{path}.{os.getpid()}.tmp"
    write_new(tmp, data, mode, exclusive=False)
    os.replace(tmp, path)


def write_new(path: str, data: bytes, mode: int, *, exclusive: bool = True) -> None:
    """Write `data` to `path` with `mode` (whatever the umask) and fsync it. `exclusive` refuses
    a file that exists already."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
