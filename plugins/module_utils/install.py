# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""install(...) -> Outcome: put in place a certificate that another host (a pool's issuer) obtained.

A pool member never orders its pool's certificate: the issuer sends it, from a play (the
certificate_install module) or from cron (`zerodowntime-acme receive` over SSH). Whoever sent it,
it is checked before it is installed, as the CA's answers are: the key matches the certificate,
the names are exactly the member's own, the chain holds together, and it is not older than what is
in place. Then it is swapped in atomically, under the lineage's lock, and the reload is noted.

export() reads a lineage into the bundle that install() takes, on the issuer; receive() is
install() for a bundle pushed from cron.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

from . import certcheck, keyaccess, lineage, locks, names, roots, texts, times, versions
from .errors import AcmeError, ConfigError, StorageError
from .outcome import Outcome
from .spec import CertificateSpec

FORMAT = 1
MAX_BUNDLE = 1 << 20


@dataclass(frozen=True)
class Bundle:
    """One certificate as an issuer sends it to its pool's members. Holds a private key: never log
    it, never return it."""

    name: str
    privkey: str
    fullchain: str
    issuer: str
    directory_url: str | None = None
    issued_at: str | None = None
    # Whether the CA offered ARI when it issued it: a member never asks, but a member that becomes
    # the issuer (the issuer moved) renews with `replaces`.
    ari: bool = False

    def to_json(self) -> bytes:
        return json.dumps(dict(asdict(self), format=FORMAT)).encode()

    @classmethod
    def from_json(cls, raw: bytes, now: datetime.datetime | None = None) -> Bundle:
        """A bundle from its JSON text; ConfigError for anything else (it arrives over SSH, from
        whoever holds a push key: every field is checked before any of it is used or printed)."""
        if len(raw) > MAX_BUNDLE:
            raise ConfigError(f"the bundle is larger than {MAX_BUNDLE} bytes; refused")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise ConfigError(f"the bundle is not JSON ({texts.printable(str(exc), 200)}); nothing was installed") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"the bundle is not a zerodowntime-acme bundle of format {FORMAT}; nothing was installed")
        return cls.from_fields(data, now)

    @classmethod
    def from_fields(cls, data: dict[str, Any], now: datetime.datetime | None = None) -> Bundle:
        """A bundle from its fields (the JSON's, or certificate_install's options), each checked."""
        fields: dict[str, Any] = {"name": str, "privkey": str, "fullchain": str, "issuer": str,
                                  "directory_url": (str, type(None)), "issued_at": (str, type(None)),
                                  "ari": (bool, type(None))}
        for field, kind in fields.items():
            if not isinstance(data.get(field), kind):
                raise ConfigError(f"the bundle's {field} is missing or of the wrong type; nothing was installed")
        return cls(name=_checked("name", data["name"], names.check_lineage_name),
                   privkey=data["privkey"], fullchain=data["fullchain"],
                   issuer=_checked("issuer", data["issuer"], names.check_host_name),
                   directory_url=_checked("directory_url", data.get("directory_url"), _directory_url),
                   issued_at=_checked("issued_at", data.get("issued_at"), lambda text: _issued_at(text, now)),
                   ari=bool(data.get("ari")))


def _checked(field: str, value: Any, check: Callable[[Any], Any]) -> Any:
    """`value` through `check` (None stays None); a ConfigError that shows the value only as repr."""
    if value is None:
        return None
    try:
        return check(value)
    except (AcmeError, ValueError) as exc:
        raise ConfigError(f"the bundle's {field} {texts.printable(repr(value), 200)} cannot be used "
                          f"({texts.printable(str(exc), 300)}); nothing was installed") from None


def _directory_url(url: str) -> str:
    from .connection import CAConnection

    return CAConnection(directory_url=url).checked().directory_url


def _issued_at(text: str, now: datetime.datetime | None) -> str:
    moment = times.parse_iso(text)
    if moment > (now or times.now()) + certcheck.RECEIVED_SKEW:
        raise ValueError("it is in the future")
    return times.iso(moment)


def export(cert_dir: str, name: str, issuer: str) -> Bundle:
    """The current version of lineage `name`, as a bundle from `issuer`."""
    current = lineage.read(cert_dir, name)
    if current is None or current.cert is None or current.cert.self_signed:
        raise ConfigError(f"there is no certificate named '{name}' under {cert_dir} to send (only a placeholder?)")
    try:
        with open(current.paths.privkey, encoding="ascii") as f:
            privkey = f.read()
        with open(current.paths.fullchain, encoding="ascii") as f:
            fullchain = f.read()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the files of '{name}' under {cert_dir}: {exc}") from exc
    directory_url = current.meta.get("directory_url")
    issued_at = current.meta.get("issued_at")
    return Bundle(name=name, privkey=privkey, fullchain=fullchain, issuer=issuer,
                  directory_url=directory_url if isinstance(directory_url, str) else None,
                  issued_at=issued_at if isinstance(issued_at, str) else None,
                  ari=current.meta.get("ari") is True)


def install(cert_dir: str, name: str, domains: list[str], bundle: Bundle, *, check_mode: bool = False,
            now: datetime.datetime | None = None, access: keyaccess.Access = lineage.ROOT_ONLY,
            combined: bool = False, trusted_roots: Sequence[str] | None = None) -> Outcome:
    """Make lineage `name` hold the bundle's certificate, after checking it (see the module's
    docstring), its key files with `access` (and combined.pem with `combined`). With
    `trusted_roots` (PEM), its chain must lead to one of them. Not changed when that very
    certificate is in place already and the key files' access is right."""
    # 1. Check what arrived against what this host expects.
    wanted = names.normalize(domains)
    name = names.check_lineage_name(name)
    if bundle.name != name:
        raise ConfigError(f"the bundle from {bundle.issuer} is for '{bundle.name}', not '{name}'; nothing was installed")
    source = bundle.issuer
    from . import keys

    keys.require_cryptography()
    try:
        private_key = keys.load_pem(bundle.privkey.encode("ascii"))
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ConfigError(f"the key {source} sent is not a PEM private key ({exc}); nothing was installed") from None
    chain = certcheck.parse_chain(bundle.fullchain.encode("utf-8"), f"the certificate chain {source} sent")
    certcheck.check(chain, private_key, wanted, now or times.now(), source=source)
    if chain[0].issuer == chain[0].subject:
        raise ConfigError(f"{source} sent a self-signed certificate (its placeholder?): it has not obtained "
                          f"'{name}' yet; nothing was installed")
    certcheck.check_received(chain, now or times.now(), source)
    if trusted_roots is not None:
        roots.check_leads_to(chain, trusted_roots, source)
    fullchain_pem = certcheck.to_pem(chain)
    leaf_pem = versions.split_fullchain(fullchain_pem)[0]

    files = _Files(keys.to_pem(private_key), fullchain_pem, leaf_pem, access, combined,
                   None if trusted_roots is None else list(trusted_roots))
    if check_mode:
        return _install(cert_dir, name, wanted, bundle, files, True)
    lineage.check_writable(cert_dir, name)
    with locks.holding(cert_dir, name):
        return _install(cert_dir, name, wanted, bundle, files, False)


def receive(spec: CertificateSpec, bundle: Bundle, now: datetime.datetime | None = None) -> Outcome:
    """install() for `receive`, a bundle pushed by cron to the pool member of `spec`: its chain must
    lead to the roots that the play's certificate_install recorded beside the certificate in place
    (and each receive after it kept), this member's own record, never the bundle's word."""
    current = lineage.read(spec.cert_dir, str(spec.name))
    recorded = current.meta.get("pool_roots") if current else None
    trusted = [pem for pem in recorded if isinstance(pem, str)] if isinstance(recorded, list) else []
    return install(spec.cert_dir, str(spec.name), spec.domains, bundle, combined=spec.combined, now=now,
                   access=keyaccess.resolve(spec.key_owner, spec.key_group, spec.key_mode), trusted_roots=trusted)


@dataclass(frozen=True)
class _Files:
    """What goes on disk: the checked pair, and the key files' access."""

    key_pem: bytes
    fullchain_pem: bytes
    leaf_pem: bytes
    access: keyaccess.Access
    combined: bool
    roots: list[str] | None  # what the chain was checked against: kept beside it for the next receive


def _install(cert_dir: str, name: str, wanted: list[str], bundle: Bundle, files: _Files, check_mode: bool) -> Outcome:
    leaf_pem = files.leaf_pem
    # 2. Compare with what is in place: the same certificate is no change, an older one is refused.
    current = lineage.read(cert_dir, name)
    new = lineage.cert_info(leaf_pem)
    before = current.cert if current else None
    same = current is not None and hashlib.sha256(current.pem).digest() == hashlib.sha256(leaf_pem).digest()
    if before is not None and not before.self_signed and not same and before.not_before > new.not_before:
        raise ConfigError(f"the certificate sent by {bundle.issuer} (serial {new.serial}, from "
                          f"{times.iso(new.not_before)}) is older than the one in place (serial {before.serial}, from "
                          f"{times.iso(before.not_before)}); nothing was installed")
    outcome = Outcome(changed=not same, name=name, domains=new.domains,
                      reason=(f"the certificate from {bundle.issuer} is in place already" if same else
                              f"a new certificate from {bundle.issuer}"),
                      paths=lineage.paths_for(cert_dir, name).as_dict(), not_before=times.iso(new.not_before),
                      not_after=times.iso(new.not_after), serial=new.serial,
                      diff={"before": {"serial": before.serial, "not_after": times.iso(before.not_after)} if before else {},
                            "after": {"serial": new.serial, "not_after": times.iso(new.not_after)}})
    if same:  # the key files may still have drifted
        try:
            outcome.repaired = lineage.keep_access(cert_dir, name, files.access, files.combined, dry_run=check_mode)
        except OSError as exc:
            raise StorageError(f"cannot give the key files of '{name}' their owner, group and mode: {exc}") from exc
        if outcome.repaired:
            outcome.changed = True
            outcome.reason += f"; files put right: {'; '.join(outcome.repaired)}"
        if files.roots is not None and current is not None and current.meta.get("pool_roots") != files.roots:
            # The play brings the issuer's roots (a first play after an upgrade, or a new root).
            if not check_mode:
                versions.update_meta(cert_dir, name, {"pool_roots": files.roots})
            outcome.changed = True
            outcome.reason += "; the roots it trusts for the next push are now those its issuer recorded"
        return outcome
    if check_mode:
        return outcome
    # 3. Swap it in, as an issuance does, and note that the server must reload.
    meta: dict[str, Any] = {"directory_url": bundle.directory_url, "received_from": bundle.issuer,
                            "domains": wanted, "key_type": new.key_type, "issued_at": bundle.issued_at,
                            "received_at": times.iso(times.now()), "ari": bundle.ari}
    if files.roots is not None:
        meta["pool_roots"] = files.roots
    stored = versions.store(cert_dir, name, files.key_pem, files.fullchain_pem, meta, files.access, files.combined)
    outcome.warnings.extend(stored.warnings)
    outcome.repaired = stored.repaired
    outcome.renewed = True
    return outcome
