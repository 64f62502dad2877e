# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A certificate's files on disk: read them, and replace them as one atomic swap.

Layout under `cert_dir`:

    NAME -> .versions/NAME/7          symlink; what nginx and users point at
    .versions/NAME/7/privkey.pem      0600
    .versions/NAME/7/cert.pem  chain.pem  fullchain.pem
    .versions/NAME/7/meta.json        where it came from, and a summary of cert.pem
    .versions/NAME/7/combined.pem     key, leaf and chain in one file, with the key's access (combined)
    .versions/NAME/6/...              the previous version, kept

The summary (with cert.pem's SHA-256) lets a run with nothing due decide without loading
`cryptography`; a cert.pem changed by hand no longer matches it and is parsed instead.

A new version is written and fsynced in its own folder, then the `NAME` link is replaced with one
rename(2). Key and certificate therefore change together: a reader (or a crash) sees either the
old pair or the new one, never a mix.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from . import files, keyaccess, times
from .errors import ConfigError, StorageError
from .locks import VERSIONS

FILES = ("privkey.pem", "cert.pem", "chain.pem", "fullchain.pem")
META = "meta.json"
COMBINED = "combined.pem"
# The files that hold the private key, and so get the key's owner, group and mode.
KEY_FILES = ("privkey.pem", COMBINED)
ROOT_ONLY = keyaccess.Access(-1, -1, 0o600)
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----\r?\n?", re.S)


@dataclass(frozen=True)
class Paths:
    """Where a lineage's files are, through the `NAME` link."""

    privkey: str
    cert: str
    chain: str
    fullchain: str

    def as_dict(self) -> dict[str, str]:
        return {"privkey": self.privkey, "cert": self.cert, "chain": self.chain, "fullchain": self.fullchain}


@dataclass(frozen=True)
class CertInfo:
    """What the renewal decision and the results need from a certificate."""

    domains: list[str]
    not_before: datetime.datetime
    not_after: datetime.datetime
    serial: str
    key_type: str | None
    issuer: str
    self_signed: bool


@dataclass(frozen=True)
class Lineage:
    """A lineage as found on disk. `cert` is None when the certificate cannot be parsed."""

    name: str
    paths: Paths
    cert: CertInfo | None
    problem: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    pem: bytes = b""


def version_folder(cert_dir: str, name: str) -> str:
    """The folder that NAME currently links to (where per-version state such as ARI's lives)."""
    return os.path.realpath(os.path.join(cert_dir, name))


def current_version(cert_dir: str, name: str) -> str:
    """The live version's number ("" when there is none): it changes with every new version."""
    return _current_version(os.path.join(cert_dir, name))


def paths_for(cert_dir: str, name: str) -> Paths:
    base = os.path.join(cert_dir, name)
    return Paths(*(os.path.join(base, f) for f in FILES))


def read(cert_dir: str, name: str) -> Lineage | None:
    """The lineage `name`, or None when it has no certificate yet."""
    paths = paths_for(cert_dir, name)
    try:
        with open(paths.cert, "rb") as f:
            cert_pem = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StorageError(f"cannot read {paths.cert}: {exc.strerror}; check its permissions") from exc
    meta = files.read_json_object(os.path.join(cert_dir, name, META))
    info = _summary_to_info(meta.get("certificate"), cert_pem)
    if info is None:
        try:
            info = cert_info(cert_pem)
        except ValueError as exc:
            return Lineage(name, paths, None, problem=f"{paths.cert} is not a PEM certificate ({exc})", meta=meta)
    return Lineage(name, paths, info, meta=meta, pem=cert_pem)


def check_writable(cert_dir: str, name: str) -> None:
    """Fail before anything is ordered when a new version of `name` could not be stored: the
    folders it goes to (or their nearest existing parent) must be writable by this user."""
    for folder in (cert_dir, os.path.join(cert_dir, VERSIONS, name)):
        existing = folder
        while not os.path.lexists(existing) and os.path.dirname(existing) != existing:
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(f"cert_dir {cert_dir} cannot hold the certificate '{name}': {existing} is not a folder "
                              "this user can write to; fix its owner or mode (or run as root) before anything is ordered")


def update_meta(cert_dir: str, name: str, changes: dict[str, Any]) -> None:
    """Add `changes` to the current version's meta.json (the certificate summary stays)."""
    path = os.path.join(version_folder(cert_dir, name), META)
    try:
        files.write_json(path, dict(files.read_json_object(path), **changes))
    except OSError as exc:
        raise StorageError(f"cannot update {path}: {exc}") from exc


def cert_info(cert_pem: bytes) -> CertInfo:
    """Parse the first certificate of `cert_pem`."""
    from cryptography import x509  # not needed when the summary in meta.json matches

    from . import keys

    keys.require_cryptography()
    cert = x509.load_pem_x509_certificate(cert_pem)
    domains = keys.names_in(cert)
    if domains is None:
        domains = [str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    return CertInfo(
        domains=domains,
        not_before=times.cert_time(cert, "not_valid_before"),
        not_after=times.cert_time(cert, "not_valid_after"),
        serial=format(cert.serial_number, "x"),
        key_type=keys.type_of(cert.public_key()),
        issuer=cert.issuer.rfc4514_string(),
        self_signed=cert.issuer == cert.subject,
    )


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
        previous = _current_version(link)
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


def keep_access(cert_dir: str, name: str, access: keyaccess.Access, combined: bool,
                dry_run: bool = False) -> list[str]:
    """Put the key files of every version back to `access`, and make combined.pem of the live
    version agree with `combined` (written from its own key and fullchain, or removed everywhere).
    Returns what changed (with dry_run, what would). Callers hold the lineage's lock."""
    versions_dir = os.path.join(cert_dir, VERSIONS, name)
    try:
        versions = sorted((v for v in os.listdir(versions_dir) if v.isdigit()), key=int)
    except FileNotFoundError:
        return []
    live = _current_version(os.path.join(cert_dir, name))
    changes = []
    for version in versions:
        folder = os.path.join(versions_dir, version)
        if not combined and os.path.lexists(os.path.join(folder, COMBINED)):
            if not dry_run:
                os.unlink(os.path.join(folder, COMBINED))
            changes.append(f"version {version}: {COMBINED} removed (combined is off)")
        for filename in KEY_FILES:
            changes += [f"version {version} {change}"
                        for change in keyaccess.repair(os.path.join(folder, filename), access, dry_run)]
    folder = os.path.join(versions_dir, live)
    if combined and live in versions and not os.path.lexists(os.path.join(folder, COMBINED)):
        if not dry_run:
            with open(os.path.join(folder, "privkey.pem"), "rb") as key, \
                    open(os.path.join(folder, "fullchain.pem"), "rb") as fullchain:
                data = key.read() + fullchain.read()
            files.replace(os.path.join(folder, COMBINED), data, access.mode, access.uid, access.gid)
        changes.append(f"version {live}: {COMBINED} written")
    return changes


def _meta_json(meta: dict[str, Any], cert_pem: bytes) -> bytes:
    info = cert_info(cert_pem)
    summary = {
        "sha256": hashlib.sha256(cert_pem).hexdigest(),
        "domains": info.domains,
        "not_before": info.not_before.isoformat(),
        "not_after": info.not_after.isoformat(),
        "serial": info.serial,
        "key_type": info.key_type,
        "issuer": info.issuer,
        "self_signed": info.self_signed,
    }
    return json.dumps(dict(meta, certificate=summary), indent=2, sort_keys=True).encode() + b"\n"


def _summary_to_info(summary: Any, cert_pem: bytes) -> CertInfo | None:
    """The CertInfo stored at issuance, if it still describes this very cert.pem."""
    if not isinstance(summary, dict) or summary.get("sha256") != hashlib.sha256(cert_pem).hexdigest():
        return None
    try:
        return CertInfo(
            domains=list(summary["domains"]),
            not_before=times.parse_iso(summary["not_before"]),
            not_after=times.parse_iso(summary["not_after"]),
            serial=str(summary["serial"]),
            key_type=summary["key_type"],
            issuer=str(summary["issuer"]),
            self_signed=bool(summary["self_signed"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _adopt_plain_directory(link: str, versions_dir: str) -> None:
    # A real folder at NAME (made by hand or by another tool) becomes version 0, so that it is
    # kept as the previous version and NAME can become a link.
    if os.path.isdir(link) and not os.path.islink(link):
        os.rename(link, os.path.join(versions_dir, "0"))
        os.symlink(os.path.join(VERSIONS, os.path.basename(link), "0"), link)


def _current_version(link: str) -> str:
    try:
        return os.path.basename(os.readlink(link))
    except OSError:
        return ""


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
    while True:
        tmp = f"{link}.tmp-{secrets.token_hex(8)}"
        try:
            os.symlink(target, tmp)  # never follows anything at `tmp`: fails if the name exists
            break
        except FileExistsError:
            continue
    os.rename(tmp, link)


def _prune(versions_dir: str, link: str, own: str, previous: str) -> None:
    """Remove the versions older than this one, except the previous one and whatever the link
    points to now (read again: never delete what is live), and leftovers of runs cut short."""
    live = _current_version(link)
    for version in os.listdir(versions_dir):
        if version in (own, previous, live) or not version.isdigit() or int(version) > int(own):
            continue
        folder = os.path.join(versions_dir, version)
        for filename in os.listdir(folder):
            os.unlink(os.path.join(folder, filename))
        os.rmdir(folder)
    # A link swap cut short leaves NAME.tmp-XXXX behind: remove this lineage's.
    folder, base = os.path.split(link)
    for entry in os.listdir(folder or "."):
        if entry.startswith(base + ".tmp-") and os.path.islink(os.path.join(folder, entry)):
            os.unlink(os.path.join(folder, entry))


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
