# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the user asks for, and its checks: every mistake is found here, before any order."""

from __future__ import annotations

import dataclasses
import datetime
import os
import urllib.parse
from dataclasses import dataclass

from . import names, webroot
from .errors import ConfigError

LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
CONFIG_DIR = "/etc/zerodowntime-acme"
DEFAULT_CERT_DIR = CONFIG_DIR + "/live"
DEFAULT_TIMEOUT = 300
KEY_TYPES = ("ec256", "ec384", "rsa2048", "rsa3072", "rsa4096")


@dataclass(frozen=True)
class CertificateSpec:
    """One certificate as the fronts describe it (the module's options, the CLI's JSON file)."""

    domains: list[str]
    webroot: str
    name: str | None = None
    cert_dir: str = DEFAULT_CERT_DIR
    directory_url: str = LETSENCRYPT
    ca_bundle: str | None = None
    validate_certs: bool = True
    account_key: str | None = None
    account_email: str | None = None
    terms_agreed: bool = False
    key_type: str = "ec256"
    reuse_key: bool = False
    force: bool = False
    self_check: bool = True
    timeout: int = DEFAULT_TIMEOUT
    renew_before_days: int | None = None
    profile: str | None = None
    profile_required: bool = False
    preferred_chain: str | None = None


def renew_before(days: int | None) -> datetime.timedelta | None:
    """renew_before_days as a timedelta; None means the lifetime fraction rule."""
    if days is None:
        return None
    if days <= 0:
        raise ConfigError(f"renew_before_days must be a positive number of days, not {days}")
    return datetime.timedelta(days=days)


def default_account_key(directory_url: str) -> str:
    """One account key per ACME server: /etc/zerodowntime-acme/accounts/HOST[_PORT].pem."""
    parts = urllib.parse.urlsplit(directory_url)
    host = (parts.hostname or "unknown").lower()
    label = f"{host}_{parts.port}" if parts.port else host
    return os.path.join(CONFIG_DIR, "accounts", label + ".pem")


def validated(spec: CertificateSpec) -> CertificateSpec:
    """The spec with names normalised and defaults filled in (name and account_key are then set)."""
    domains = names.normalize(spec.domains)
    name = names.lineage_name(domains, spec.name)
    if spec.key_type not in KEY_TYPES:
        raise ConfigError(f"key_type {spec.key_type!r} is not one of {', '.join(KEY_TYPES)}")
    if not urllib.parse.urlsplit(spec.directory_url).scheme in ("https", "http"):
        raise ConfigError(f"directory_url {spec.directory_url!r} is not an http(s) URL")
    if spec.profile_required and not spec.profile:
        raise ConfigError("profile_required=true needs a profile")
    renew_before(spec.renew_before_days)  # checks it
    if spec.timeout <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds, not {spec.timeout}")
    webroot.check_webroot(spec.webroot)
    return dataclasses.replace(
        spec, domains=domains, name=name,
        account_key=spec.account_key or default_account_key(spec.directory_url),
    )
