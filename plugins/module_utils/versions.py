# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A new version of a lineage (layout in lineage.py), and the PEM bundles it is cut from.

A new version is written and fsynced in its own folder, then the `NAME` link is replaced with one
rename(2). Key and certificate therefore change together: a reader (or a crash) sees either the
old pair or the new one, never a mix. The previous version is kept, older ones are pruned.

Only a run that stores something loads this file: a run with nothing due reads lineage.py alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import files, keyaccess, reloads, times
from .errors import AcmeError, StorageError
from .lineage import (COMBINED, KEY_FILES, META, ROOT_ONLY, Paths, cert_info, current_version, keep_access, paths_for,
                      version_folder)
from .locks import VERSIONS

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----\r?\n?", re.S)


def pem_certificates(pem: bytes) -> list[bytes]:
    """The PEM certificates in a bundle, in order, each ending in one newline."""
    return [m.group(0).rstrip(b"\r\n") + b"\n" for m in _PEM_CERT.finditer(pem)]


def split_fullchain(fullchain_pem: bytes) -> tuple[bytes, bytes]:
    """(leaf certificate, the rest of the chain) from a PEM bundle as the CA returned it."""
    blocks = pem_certificates(fullchain_pem)
    if not blocks:
        raise StorageError("the CA returned no PEM certificate; nothing was written")
    return blocks[0], b"".join(blocks[1:])


@dataclass(frozen=True)
class Written:
    """A new version in place: its paths, and what went wrong after the swap (old versions that
    could not be pruned, say), which no longer concerns the new files."""

    paths: Paths
    version: str
    warnings: list[str]


def write(cert_dir: str, name: str, key_pem: bytes, fullchain_pem: bytes, meta: dict[str, Any],
          access: keyaccess.Access = ROOT_ONLY, combined: bool = False) -> Written:
    """Install a new version of lineage `name` as one atomic swap; keep the previous version. The
    key files get `access` before the swap; with `combined`, combined.pem too. Callers hold the
    lineage's lock (locks.holding(cert_dir, name))."""
    cert_pem, chain_pem = split_fullchain(fullchain_pem)
    versions_dir = os.path.join(cert_dir, VERSIONS, name)
    link = os.path.join(cert_dir, name)
    try:
        os.makedirs(versions_dir, mode=0o755, exist_ok=True)
        _adopt_plain_directory(link, versions_dir)
        previous = current_version(cert_dir, name)
        version, folder = _new_version_folder(versions_dir)
        contents = {
            "privkey.pem": key_pem,
            "cert.pem": cert_pem,
            "chain.pem": chain_pem,
            "fullchain.pem": cert_pem + chain_pem,
            META: _meta_json(meta, cert_pem),
        }
        if combined:
            contents[COMBINED] = key_pem + cert_pem + chain_pem
        for filename, data in contents.items():
            if filename in KEY_FILES:
                files.write_new(os.path.join(folder, filename), data, access.mode, access.uid, access.gid)
            else:
                files.write_new(os.path.join(folder, filename), data, 0o644)
        _fsync_dir(folder)
        _swap_link(link, os.path.join(VERSIONS, name, version))  # the commit point
    except OSError as exc:
        raise StorageError(
            f"cannot write the certificate files for '{name}' under {cert_dir}: {exc}; "
            "the previous files are still in place"
        ) from exc
    warnings = []
    try:
        _fsync_dir(cert_dir)
        _prune(versions_dir, link, own=version, previous=previous)
    except OSError as exc:
        warnings.append(f"the new certificate for '{name}' is in place, but cleaning up after it failed ({exc}); "
                        "old versions stay under .versions until the next renewal")
    return Written(paths_for(cert_dir, name), version, warnings)


class Stored(NamedTuple):
    """A checked pair stored as the lineage's new version, with all that goes with it."""

    written: Written
    repaired: list[str]  # the kept versions' key files put to the same access
    warnings: list[str]  # what failed after the swap: the new version is live all the same


def store(cert_dir: str, name: str, key_pem: bytes, fullchain_pem: bytes, meta: dict[str, Any],
          access: keyaccess.Access, combined: bool) -> Stored:
    """write() a checked pair, then give the kept versions the same key access and note that the
    server must reload: what an issuance and a received certificate both do. From the swap on the
    new certificate is live, so whatever fails after it is a warning. Callers hold the lineage's
    lock."""
    written = write(cert_dir, name, key_pem, fullchain_pem, meta, access=access, combined=combined)
    warnings = list(written.warnings)
    repaired: list[str] = []
    try:
        repaired = keep_access(cert_dir, name, access, combined)
    except (OSError, StorageError) as exc:
        warnings.append(f"the previous versions of '{name}' keep their old key access: {exc}")
    try:
        reloads.mark(cert_dir, name, times.now())
    except (OSError, AcmeError) as exc:
        warnings.append(f"the new certificate for '{name}' is in place, but the reload-pending note could not be "
                        f"written ({exc}); reload the web server yourself")
    return Stored(written, repaired, warnings)


def update_meta(cert_dir: str, name: str, changes: dict[str, Any]) -> None:
    """Add `changes` to the current version's meta.json (the certificate summary stays)."""
    path = os.path.join(version_folder(cert_dir, name), META)
    try:
        files.write_json(path, dict(files.read_json_object(path), **changes))
    except OSError as exc:
        raise StorageError(f"cannot update {path}: {exc}") from exc


def _meta_json(meta: dict[str, Any], cert_pem: bytes) -> bytes:
    info = cert_info(cert_pem)
    summary = {
        "sha256": hashlib.sha256(cert_pem).hexdigest(),
        "domains": info.domains,
        "not_before": times.iso(info.not_before),
        "not_after": times.iso(info.not_after),
        "serial": info.serial,
        "key_type": info.key_type,
        "issuer": info.issuer,
        "self_signed": info.self_signed,
    }
    return json.dumps(dict(meta, certificate=summary), indent=2, sort_keys=True).encode() + b"\n"


def _adopt_plain_directory(link: str, versions_dir: str) -> None:
    # A real folder at NAME (made by hand or by another tool) becomes version 0, so that it is
    # kept as the previous version and NAME can become a link.
    if os.path.isdir(link) and not os.path.islink(link):
        os.rename(link, os.path.join(versions_dir, "0"))
        os.symlink(os.path.join(VERSIONS, os.path.basename(link), "0"), link)


def _new_version_folder(versions_dir: str) -> tuple[str, str]:
    """A new, empty version folder numbered after every existing one."""
    number = max((int(v) for v in os.listdir(versions_dir) if v.isdigit()), default=0) + 1
    while True:
        folder = os.path.join(versions_dir, str(number))
        try:
            os.mkdir(folder, 0o755)
            return str(number), folder
        except FileExistsError:  # a writer that ignored the lock (an older release): take the next
            number += 1


def _swap_link(link: str, target: str) -> None:
    folder, base = os.path.split(link)
    while True:
        # A dot first: no lineage is named so, and none may be taken for another's leftover.
        tmp = os.path.join(folder, f".{base}.tmp-{secrets.token_hex(8)}")
        try:
            os.symlink(target, tmp)  # never follows anything at `tmp`: fails if the name exists
            break
        except FileExistsError:
            continue
    os.rename(tmp, link)


def _prune(versions_dir: str, link: str, own: str, previous: str) -> None:
    """Remove the versions older than this one, except the previous one and whatever the link
    points to now (read again: never delete what is live), and leftovers of runs cut short."""
    live = current_version(*os.path.split(link))
    for version in os.listdir(versions_dir):
        if version in (own, previous, live) or not version.isdigit() or int(version) > int(own):
            continue
        folder = os.path.join(versions_dir, version)
        for filename in os.listdir(folder):
            os.unlink(os.path.join(folder, filename))
        os.rmdir(folder)
    # A link swap cut short leaves .NAME.tmp-XXXX behind (NAME.tmp-XXXX, before 0.2.0): remove this
    # lineage's. An old-style name is this lineage's only when it points into its own versions: a
    # lineage may be named `a.tmp-b`.
    folder, base = os.path.split(link)
    for entry in os.listdir(folder or "."):
        path = os.path.join(folder, entry)
        if entry.startswith(f".{base}.tmp-") and os.path.islink(path):
            os.unlink(path)
        elif entry.startswith(f"{base}.tmp-") and os.path.islink(path) \
                and os.readlink(path).startswith(os.path.join(VERSIONS, base, "")):
            os.unlink(path)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
