# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the user asks for, and its checks: every mistake is found here, before any order."""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from . import carules, keyaccess, names, responders
from .connection import CAConnection
from .errors import ConfigError
from .options import check_path, check_types
from .paths import DEFAULT_CERT_DIR
from .keytypes import KEY_TYPES

# A systemd unit name: never an option to systemctl, never anything a shell would read.
SERVICE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9:_.@-]{0,254}")
# A certificate lives at most 398 days (CA/Browser Forum); renewing earlier than a year before
# expiry would renew on every run.
MAX_RENEW_BEFORE_DAYS = 365


@dataclass(frozen=True)
class CertificateSpec:
    """One certificate as the fronts describe it (the module's options, the CLI's JSON file): what
    is kept for cron. How to run (force, check mode) is said to ensure() for one run only."""

    domains: list[str]
    # How the CA validates the names (responders.py), and what that challenge type needs: the
    # http-01 responder's folder, the dns-01 responder's options (dnsconfig.py).
    challenge: str = "http-01"
    webroot: str | None = None
    dns: dict[str, Any] | None = None
    name: str | None = None
    cert_dir: str = DEFAULT_CERT_DIR
    ca: CAConnection = field(default_factory=CAConnection)
    account_email: str | None = None
    terms_agreed: bool = False
    key_type: str = "ec256"
    reuse_key: bool = False
    self_check: bool = True
    renew_before_days: int | None = None
    profile: str | None = None
    profile_required: bool = False
    preferred_chain: str | None = None
    # A pool member's certificate: the inventory name of the host that orders it (its issuer). A
    # member never orders it; it receives it (install.py).
    issuer: str | None = None
    # A pool issuer's certificate: the members to push it to, each {"host": NAME, "address": ADDRESS}.
    members: list[dict[str, str]] | None = None
    # Who may read the private key (privkey.pem and combined.pem); None: the user who runs (root).
    key_owner: str | None = None
    key_group: str | None = None
    key_mode: str | None = None
    # combined.pem: key, leaf and chain in one file (haproxy, lighttpd, ZNC).
    combined: bool = False
    # After a new version: the other services that use it (systemd units), and a shell command (hooks.py).
    reload_services: list[str] | None = None
    deploy_hook: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CertificateSpec:
        """The spec from flat options, as the module and the CLI's JSON files name them."""
        rest = dict(options)
        try:
            return cls(ca=CAConnection.take(rest), **rest)
        except TypeError as exc:
            raise ConfigError(f"an unknown or missing option: {exc}") from exc


_TYPES = {
    "challenge": str, "webroot": (str, type(None)), "dns": (dict, type(None)), "cert_dir": str, "name": (str, type(None)), "account_email": (str, type(None)),
    "terms_agreed": bool, "key_type": str, "reuse_key": bool, "self_check": bool,
    "profile": (str, type(None)), "profile_required": bool, "preferred_chain": (str, type(None)),
    "issuer": (str, type(None)), "members": (list, type(None)),
    "key_owner": (str, type(None)), "key_group": (str, type(None)), "key_mode": (str, type(None)), "combined": bool,
    "reload_services": (list, type(None)), "deploy_hook": (str, type(None)),
}


def renew_before(days: int | None) -> datetime.timedelta | None:
    """renew_before_days as a timedelta; None means the lifetime fraction rule."""
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= MAX_RENEW_BEFORE_DAYS:
        raise ConfigError(f"renew_before_days must be a number of days from 1 to {MAX_RENEW_BEFORE_DAYS}, not {days!r}")
    return datetime.timedelta(days=days)


def check_followups(services: Any, hook: Any) -> None:
    """reload_services are systemd unit names; deploy_hook is one shell command."""
    if services is not None and (not isinstance(services, list) or not all(isinstance(s, str) for s in services)):
        raise ConfigError(f"reload_services must be a list of service names, not {services!r}")
    for service in services or []:
        if not SERVICE.fullmatch(service):
            raise ConfigError(f"reload_services holds {service!r}, which is not a systemd service name (letters, "
                              "digits and : _ . @ -, not starting with -); give the name only, as in 'postfix' "
                              "or 'haproxy.service', and put commands in deploy_hook")
    if hook is not None and (not isinstance(hook, str) or not hook.strip() or "\0" in hook):
        raise ConfigError(f"deploy_hook must be a shell command, not {hook!r}")


def validated(spec: CertificateSpec) -> CertificateSpec:
    """The spec with names normalised and defaults filled in (name and ca.account_key are then set)."""
    check_types(spec, _TYPES)
    for option in ("webroot", "cert_dir"):
        if getattr(spec, option) is not None:
            check_path(option, getattr(spec, option))
    domains = names.normalize(spec.domains)
    name = names.lineage_name(domains, spec.name)
    if spec.key_type not in KEY_TYPES:
        raise ConfigError(f"key_type {spec.key_type!r} is not one of {', '.join(KEY_TYPES)}")
    if spec.profile_required and not spec.profile:
        raise ConfigError("profile_required=true needs a profile")
    renew_before(spec.renew_before_days)  # checks it
    if spec.issuer is not None:
        names.check_host_name(spec.issuer, "issuer")
    for member in spec.members or []:
        if not isinstance(member, dict) or not names.HOST_NAME.fullmatch(str(member.get("host", ""))) \
                or not names.HOST_ADDRESS.fullmatch(str(member.get("address", ""))):
            raise ConfigError(f"members holds {member!r}, not a {{host, address}} of a pool member")
    check_followups(spec.reload_services, spec.deploy_hook)
    keyaccess.parse_mode(spec.key_mode)
    keyaccess.check_account("key_owner", spec.key_owner)
    keyaccess.check_account("key_group", spec.key_group)
    ca = spec.ca.checked()
    carules.check_addresses(domains, ca.directory_url, spec.profile)
    responders.check_options(spec)
    return dataclasses.replace(spec, domains=domains, name=name, ca=ca)
