# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A certificate's files on disk, as they are: read them, and keep their key files' access.

Layout under `cert_dir`:

    NAME -> .versions/NAME/7          symlink; what nginx and users point at
    .versions/NAME/7/privkey.pem      0600
    .versions/NAME/7/cert.pem  chain.pem  fullchain.pem
    .versions/NAME/7/meta.json        where it came from, and a summary of cert.pem
    .versions/NAME/7/combined.pem     key, leaf and chain in one file, with the key's access (combined)
    .versions/NAME/6/...              the previous version, kept

The summary (with cert.pem's SHA-256) lets a run with nothing due decide without loading
`cryptography`; a cert.pem changed by hand no longer matches it and is parsed instead.

A new version is written by versions.py, which a run with nothing due never loads.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import types
from typing import Any, Mapping, NamedTuple

from . import files, keyaccess, times
from .errors import ConfigError, StorageError
from .locks import VERSIONS

FILES = ("privkey.pem", "cert.pem", "chain.pem", "fullchain.pem")
META = "meta.json"
COMBINED = "combined.pem"
# The files that hold the private key, and so get the key's owner, group and mode.
KEY_FILES = ("privkey.pem", COMBINED)
ROOT_ONLY = keyaccess.Access(-1, -1, 0o600)
_NO_META: Mapping[str, Any] = types.MappingProxyType({})


# A NamedTuple, not a dataclass: every run builds these classes, and a NamedTuple costs a tenth as
# much to define (issuance.py says why that counts).
class Paths(NamedTuple):
    """Where a lineage's files are, through the `NAME` link."""

    privkey: str
    cert: str
    chain: str
    fullchain: str

    def as_dict(self) -> dict[str, str]:
        return {"privkey": self.privkey, "cert": self.cert, "chain": self.chain, "fullchain": self.fullchain}


class CertInfo(NamedTuple):
    """What the renewal decision and the results need from a certificate."""

    domains: list[str]
    not_before: datetime.datetime
    not_after: datetime.datetime
    serial: str
    key_type: str | None
    issuer: str
    self_signed: bool


class Lineage(NamedTuple):
    """A lineage as found on disk. `cert` is None when the certificate cannot be parsed."""

    name: str
    paths: Paths
    cert: CertInfo | None
    problem: str = ""
    meta: Mapping[str, Any] = _NO_META
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
            data = _read_plain(os.path.join(folder, "privkey.pem")) + _read_plain(os.path.join(folder, "fullchain.pem"))
            files.replace(os.path.join(folder, COMBINED), data, access.mode, access.uid, access.gid)
        changes.append(f"version {live}: {COMBINED} written")
    return changes


def _read_plain(path: str) -> bytes:
    """A file the engine wrote, never through a link (OSError for one)."""
    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK), "rb") as f:
        return f.read()


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


def _current_version(link: str) -> str:
    try:
        return os.path.basename(os.readlink(link))
    except OSError:
        return ""
