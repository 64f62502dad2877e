# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The challenge folder, WEBROOT/.well-known/acme-challenge, opened safely. With responder.py (the
http-01 responder, which writes there), the only code that knows http-01 and webroots; a run with
nothing due checks the webroot with this file alone.

The webroot often belongs to a site's user, while this code runs as root. So the challenge folder
is opened without following links (O_NOFOLLOW) and refused when someone else could write to it;
the responder then creates and removes every file relative to that open folder.
"""

from __future__ import annotations

import errno
import os
import stat

from .errors import ConfigError

CHALLENGE_DIR = os.path.join(".well-known", "acme-challenge")
URL_PATH = "/.well-known/acme-challenge/"


def check_webroot(webroot: str) -> None:
    """Fail unless the challenge folder can be used safely: the webroot exists, no part of
    .well-known/acme-challenge is a link or a file, the folder is not writable by anyone but this
    user (or root), and this user can create it or write in it. Reads only."""
    fd = open_challenge_dir(webroot, create=False)
    if fd is not None:
        os.close(fd)


def open_challenge_dir(webroot: str, create: bool) -> int | None:
    """An open descriptor of WEBROOT/.well-known/acme-challenge, opened without following links
    and checked (see check_webroot). Missing parts are created when `create`; otherwise None is
    returned when they are missing and could be created."""
    try:
        fd = os.open(webroot, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the user's own path may be a link
    except OSError as exc:
        raise ConfigError(
            f"the webroot {webroot} does not exist or is not a folder ({exc.strerror}); create it and make "
            f"the web server serve it for {URL_PATH} on port 80"
        ) from exc
    path = webroot
    try:
        for part in CHALLENGE_DIR.split(os.sep):
            path = os.path.join(path, part)
            if create:
                _make_folder(fd, part, path)
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except FileNotFoundError:
                if not os.access(os.path.dirname(path), os.W_OK | os.X_OK):
                    raise ConfigError(f"{path} does not exist, and this user cannot create it in "
                                      f"{os.path.dirname(path)}; create it (owned by root, mode 0755)") from None
                os.close(fd)
                return None
            except OSError as exc:
                raise ConfigError(_refusal(fd, part, path, exc)) from exc
            os.close(fd)
            fd = child
        _check_owner_and_mode(os.fstat(fd), path)
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"the challenge folder {path} is not writable by this user; fix its owner or mode")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _make_folder(parent_fd: int, name: str, path: str) -> None:
    try:
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    except FileExistsError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from exc
    # nginx's workers must read it: 0755 whatever the umask (set through a descriptor that does
    # not follow links, in case the name was swapped since).
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
    try:
        os.fchmod(fd, 0o755)
    finally:
        os.close(fd)


def _refusal(parent_fd: int, name: str, path: str, exc: OSError) -> str:
    try:
        is_link = stat.S_ISLNK(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode)
    except OSError:
        is_link = False
    if is_link or exc.errno in (errno.ELOOP, errno.EMLINK):
        return (f"{path} is a symbolic link; refusing to follow it, since whoever can write to the webroot "
                "could point it anywhere. Replace it with a real folder owned by root, mode 0755")
    if exc.errno == errno.ENOTDIR:
        return f"{path} is not a folder; replace it with a folder owned by root, mode 0755"
    return f"cannot open {path}: {exc.strerror}"


def _check_owner_and_mode(st: os.stat_result, path: str) -> None:
    """Only root or the running user may own the challenge folder, and nobody else may write to it:
    whoever can write there can plant links or files where this process writes."""
    if st.st_uid not in (0, os.geteuid()):
        raise ConfigError(f"the challenge folder {path} is owned by uid {st.st_uid}, who could plant links in it; "
                          f"make it owned by root (chown root:root {path})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"the challenge folder {path} is writable by its group or by everyone "
                          f"(mode {stat.S_IMODE(st.st_mode):04o}), who could plant links in it; chmod 0755 {path}")
