# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' files on a host in one pass: folders, small text files, what must go, and what the
next tasks need to know (a file's SHA-256, whether a Debian package is installed).

A fleet pays a play per host per task. Each of these, done by its own task, is a round trip to
every host on every run; here one module call does them all and writes only what differs.
Files are replaced in one rename under a random name (files.replace): a link planted at a path is
replaced, never followed. A folder whose owner and mode it sets is opened without following a link
(O_NOFOLLOW|O_DIRECTORY) and changed through that descriptor: a user who plants `certs -> secret/`
does not get root to open up `secret`. The one exception is a folder that may be a link
(`link_if_root`, for cert_dir on a bigger disk), and then only when root owns the link and every
folder above it.
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from typing import Any

from . import files
from .errors import ConfigError

DPKG_STATUS = "/var/lib/dpkg/status"


@dataclass
class Plan:
    """What the role wants on the host; see the host_files module for each option."""

    directories: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    stat: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    changed: list[str] = field(default_factory=list)  # the paths written, created or removed
    stat: dict[str, dict[str, Any]] = field(default_factory=dict)
    found: dict[str, list[str]] = field(default_factory=dict)
    missing_packages: list[str] = field(default_factory=list)


def ensure(plan: Plan, check_mode: bool = False) -> Outcome:
    """Bring the host to `plan`, in this order: folders, files, lines, removals; then report."""
    outcome = Outcome()
    for folder in plan.directories:
        if _directory(folder["path"], folder["mode"], folder.get("create_only", False),
                      folder.get("link_if_root", False), check_mode):
            outcome.changed.append(folder["path"])
    for wanted in plan.files:
        if _file(wanted["path"], wanted["content"].encode("utf-8"), wanted["mode"], check_mode):
            outcome.changed.append(wanted["path"])
    for rule in plan.lines:
        if _remove_lines(rule["path"], rule["containing"], rule.get("except_containing"), check_mode):
            outcome.changed.append(rule["path"])
    for path in plan.absent:
        if _absent(path, check_mode):
            outcome.changed.append(path)
    for rule in plan.entries:
        matching = _matching(rule["path"], rule["pattern"], rule.get("keep", []))
        if not rule.get("remove"):
            outcome.found[rule["path"]] = matching
            continue
        for path in matching:
            if _absent(path, check_mode):
                outcome.changed.append(path)
    outcome.stat = {path: _stat(path) for path in plan.stat}
    outcome.missing_packages = _missing_packages(plan.packages) if plan.packages else []
    return outcome


def _directory(path: str, mode: int, create_only: bool, link_if_root: bool, check_mode: bool) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if not check_mode:
            os.makedirs(path, mode, exist_ok=True)
            _hold(path, mode, link_if_root)
        return True
    if create_only:  # only its existence matters: a link to a folder is the user's to make
        if not os.path.isdir(path):
            raise ConfigError(f"{path} exists and is not a folder; move it away")
        return False
    if stat.S_ISLNK(info.st_mode):
        _check_root_link(path, link_if_root)
    return _hold(path, mode, link_if_root, dry_run=check_mode)


def _hold(path: str, mode: int, link_if_root: bool, dry_run: bool = False) -> bool:
    """Give the folder `path` its mode and root as owner, through a descriptor opened without
    following a link (unless `link_if_root` and the link passed _check_root_link). True when
    something changed (or would)."""
    follow = link_if_root and os.path.islink(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW))
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ConfigError(f"{path} exists and is not a folder (a link is never followed there); move it away") from None
        raise
    try:
        info = os.fstat(fd)
        if stat.S_IMODE(info.st_mode) == mode and _owned(info):
            return False
        if not dry_run:
            os.fchmod(fd, mode)  # whatever the umask
            if os.geteuid() == 0:
                os.fchown(fd, 0, 0)
        return True
    finally:
        os.close(fd)


def _check_root_link(path: str, allowed: bool) -> None:
    """A link at a folder path is followed only where the role allows it and only root could have
    made it or could change it: root owns the link and every folder above it, and none of them is
    writable by anyone else."""
    if not allowed:
        raise ConfigError(f"{path} is a symbolic link; the role sets this folder's owner and mode itself and never "
                          "follows a link there (it could point at any folder): put a folder there instead")
    current = path
    while True:
        info = os.lstat(current)
        others_may_write = stat.S_IMODE(info.st_mode) & 0o022 and not stat.S_ISLNK(info.st_mode)
        if info.st_uid not in (0, os.geteuid()) or others_may_write:
            raise ConfigError(f"{path} is a symbolic link, which is followed only when root owns it and every folder "
                              f"above it and no one else may write to them; {current} does not qualify")
        parent = os.path.dirname(current)
        if parent == current:
            return
        current = parent


def _remove_lines(path: str, containing: str, except_containing: str | None, check_mode: bool) -> bool:
    """Remove the lines of `path` that hold `containing`, except those that also hold
    `except_containing`; the file keeps its owner and mode. A missing file has no lines."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}); it must be a plain file, not a link") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path} is not a plain file")
        lines = f.read().splitlines(keepends=True)
    needle, keep = containing.encode(), except_containing.encode() if except_containing else None
    kept = [line for line in lines if needle not in line or (keep is not None and keep in line)]
    if len(kept) == len(lines):
        return False
    if not check_mode:
        files.replace(path, b"".join(kept), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    return True


def _file(path: str, data: bytes, mode: int, check_mode: bool) -> bool:
    try:
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == mode and _owned(info) \
                and info.st_size == len(data) and _read(path) == data:
            return False
    except FileNotFoundError:
        pass
    if not check_mode:
        files.replace(path, data, mode)
        _own(path)
    return True


def _absent(path: str, check_mode: bool) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not check_mode:
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    return True


def _matching(folder: str, pattern: str, keep: list[str]) -> list[str]:
    try:
        entries = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    return [os.path.join(folder, entry) for entry in entries
            if fnmatch.fnmatchcase(entry, pattern) and entry not in keep]


def _stat(path: str) -> dict[str, Any]:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    if not stat.S_ISREG(info.st_mode):
        return {"exists": True, "sha256": None}
    return {"exists": True, "sha256": hashlib.sha256(_read(path)).hexdigest()}


def _missing_packages(names: list[str]) -> list[str]:
    """The packages that dpkg does not list as installed (all of them without dpkg)."""
    installed = set()
    try:
        with open(DPKG_STATUS, encoding="utf-8", errors="replace") as f:
            stanzas = f.read().split("\n\n")
    except OSError:
        return list(names)
    for stanza in stanzas:
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        if fields.get("Status") == "install ok installed" and "Package" in fields:
            installed.add(fields["Package"])
    return [name for name in names if name not in installed]


def _read(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _owned(info: os.stat_result) -> bool:
    return os.geteuid() != 0 or (info.st_uid == 0 and info.st_gid == 0)


def _own(path: str) -> None:
    if os.geteuid() == 0:
        os.lchown(path, 0, 0)
