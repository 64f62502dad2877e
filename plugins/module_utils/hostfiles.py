# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' files on a host in one pass: folders, small text files, what must go, and what the
next tasks need to know (a file's SHA-256, whether a Debian package is installed).

A fleet pays a play per host per task. Each of these, done by its own task, is a round trip to
every host on every run; here one module call does them all and writes only what differs.
Files are replaced in one rename under a random name (files.replace): a link planted at a path is
replaced, never followed.
"""

from __future__ import annotations

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
    """Bring the host to `plan`, in this order: folders, files, removals; then report."""
    outcome = Outcome()
    for folder in plan.directories:
        if _directory(folder["path"], folder["mode"], folder.get("create_only", False), check_mode):
            outcome.changed.append(folder["path"])
    for wanted in plan.files:
        if _file(wanted["path"], wanted["content"].encode("utf-8"), wanted["mode"], check_mode):
            outcome.changed.append(wanted["path"])
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


def _directory(path: str, mode: int, create_only: bool, check_mode: bool) -> bool:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if not check_mode:
            os.makedirs(path, mode, exist_ok=True)
            os.chmod(path, mode)  # whatever the umask
            _own(path)
        return True
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{path} exists and is not a folder; move it away")
    if create_only or (stat.S_IMODE(info.st_mode) == mode and _owned(info)):
        return False
    if not check_mode:
        os.chmod(path, mode)
        _own(path)
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
