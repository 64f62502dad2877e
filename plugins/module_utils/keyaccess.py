# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may read a certificate's private key: its owner, group and mode (key_owner, key_group,
key_mode), for services that do not start as root (postfix, dovecot, a database).

The files that hold the key (privkey.pem and combined.pem) get them before the swap, and every run
puts them back when they drifted. A mode that lets everyone read the key is refused.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import re
import stat
from typing import Any, Callable, NamedTuple

from .errors import ConfigError, StorageError

DEFAULT_MODE = "0600"
# The modules' options for it (plugins/doc_fragments/key_access.py documents them).
ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    key_owner=dict(type="str", no_log=False),
    key_group=dict(type="str", no_log=False),
    key_mode=dict(type="str", default=DEFAULT_MODE, no_log=False),
    combined=dict(type="bool", default=False),
)
MODE = re.compile(r"0?[0-7]{3}")
# A user or group name as useradd(8) takes them, or a numeric id.
ACCOUNT = re.compile(r"[a-z_][a-z0-9_-]{0,31}\$?|[0-9]{1,10}")


# A NamedTuple, not a dataclass: every run builds this class, and a NamedTuple costs a tenth as much
# to define (issuance.py says why that counts).
class Access(NamedTuple):
    """Resolved on the host: uid and gid (-1 leaves them as created) and the mode bits."""

    uid: int
    gid: int
    mode: int


def parse_mode(text: str | None) -> int:
    """key_mode as bits. Only read and write bits for owner and group; the owner must read it."""
    text = DEFAULT_MODE if text is None else text
    if not isinstance(text, str) or not MODE.fullmatch(text):
        raise ConfigError(f"key_mode must be an octal mode in quotes such as \"0640\", not {text!r}")
    mode = int(text, 8)
    if mode & 0o007:
        raise ConfigError(f"key_mode {text} lets every user of the host read or change the private key; "
                          "give access through key_group with a mode such as \"0640\"")
    if mode & ~0o660 or not mode & 0o400:
        raise ConfigError(f"key_mode {text} must let the owner read the key, and may add only read and write "
                          "for owner and group (such as \"0600\" or \"0640\")")
    return mode


def check_account(option: str, value: str | None) -> None:
    """The syntax of key_owner or key_group (whether it exists is the host's business: resolve())."""
    if value is not None and (not isinstance(value, str) or not ACCOUNT.fullmatch(value)):
        raise ConfigError(f"{option} must be a user or group name of the host (or a number), not {value!r}")


def resolve(owner: str | None, group: str | None, mode: str | None) -> Access:
    """The access on this host; an unknown user or group fails here, before anything is ordered."""
    uid = gid = -1
    if owner is not None:
        uid = _lookup("key_owner", owner, pwd.getpwnam, "user")
    if group is not None:
        gid = _lookup("key_group", group, grp.getgrnam, "group")
    return Access(uid, gid, parse_mode(mode))


def repair(path: str, access: Access, dry_run: bool = False) -> list[str]:
    """Give the existing file `path` (never through a link) its owner, group and mode; say what
    changed (with dry_run, what would). A missing file is nothing to repair."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return []
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise StorageError(f"cannot open {path} to check its owner and mode: {exc.strerror}") from exc
        raise StorageError(f"{path} is a symbolic link, which the engine never follows: the key files of a version are "
                           "plain files it wrote itself, so someone else put it there; remove it") from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise StorageError(f"{path} is not a plain file (someone else put it there); remove it")
        changes = []
        if access.uid not in (-1, before.st_uid) or access.gid not in (-1, before.st_gid):
            if not dry_run:
                # Narrow the mode first: the new owner or group never gets more than both modes allow.
                os.fchmod(fd, stat.S_IMODE(before.st_mode) & access.mode)
                os.fchown(fd, access.uid, access.gid)
            if access.uid not in (-1, before.st_uid):
                changes.append(f"owner {_user(before.st_uid)} -> {_user(access.uid)}")
            if access.gid not in (-1, before.st_gid):
                changes.append(f"group {_group(before.st_gid)} -> {_group(access.gid)}")
        if stat.S_IMODE(before.st_mode) != access.mode:
            if not dry_run:
                os.fchmod(fd, access.mode)
            changes.append(f"mode {stat.S_IMODE(before.st_mode):04o} -> {access.mode:04o}")
    finally:
        os.close(fd)
    return [f"{os.path.basename(path)}: {', '.join(changes)}"] if changes else []


def _lookup(option: str, value: str, by_name: Callable[[str], Any], kind: str) -> int:
    if value.isdigit():
        return int(value)
    try:
        entry = by_name(value)
    except KeyError:
        raise ConfigError(f"{option} {value!r}: this host has no such {kind}; create it first "
                          f"(for example with ansible.builtin.{kind})") from None
    return int(entry.pw_uid if kind == "user" else entry.gr_gid)


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
