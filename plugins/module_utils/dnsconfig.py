# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dns-01 options of a certificate (its `dns` option), checked before any order: how the TXT
record is written (RFC 2136 with TSIG, a hook command, or acme-dns), which resolvers see the
zones (split horizon), and how long to wait for the nameservers. Plain data: the responder
(dns01.py) and dnspython are loaded only when a certificate is due."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import urllib.parse
from typing import Any, Mapping, NamedTuple

from . import names
from .errors import ConfigError

WRITERS = ("rfc2136", "hook", "acme-dns")
# TSIG algorithms (RFC 8945; hmac-md5 is deprecated and left out).
ALGORITHMS = ("hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1")
DEFAULT_PROPAGATION_TIMEOUT = 300
MAX_WAIT = 3600
# acme-dns' subdomain is a UUID; its username too.
_ACME_DNS_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")

# The module's declaration of the `dns` option (documented in the certificate module).
ARGUMENT_SPEC: dict[str, Any] = dict(type="dict", options=dict(
    writer=dict(type="str", required=True, choices=list(WRITERS)),
    server=dict(type="str"),
    port=dict(type="int", default=53),
    key_name=dict(type="str", no_log=False),
    key_algorithm=dict(type="str", default="hmac-sha256", choices=list(ALGORITHMS), no_log=False),
    key_secret=dict(type="str", no_log=True),
    hook=dict(type="list", elements="str"),
    acme_dns_url=dict(type="str"),
    acme_dns_accounts=dict(type="dict", no_log=True),
    resolvers=dict(type="list", elements="str"),
    propagation_timeout=dict(type="int", default=DEFAULT_PROPAGATION_TIMEOUT),
    propagation_delay=dict(type="int", default=0),
))
_DEFAULTS = {name: option.get("default") for name, option in ARGUMENT_SPEC["options"].items()}


class AcmeDnsAccount(NamedTuple):
    """What acme-dns' /register answered for one name (its _acme-challenge is a CNAME to fulldomain)."""

    username: str
    password: str
    subdomain: str


class DnsOptions(NamedTuple):
    writer: str
    server: str | None
    port: int
    key_name: str | None
    key_algorithm: str
    key_secret: str | None
    hook: tuple[str, ...]
    acme_dns_url: str | None
    acme_dns_accounts: dict[str, AcmeDnsAccount]
    resolvers: tuple[str, ...]
    propagation_timeout: int
    propagation_delay: int


def challenge_name(identifier: str) -> str:
    """Where the CA looks for the TXT record of a name: _acme-challenge.NAME, for *.NAME too."""
    return "_acme-challenge." + (identifier[2:] if identifier.startswith("*.") else identifier)


def parse(raw: Any, domains: list[str]) -> DnsOptions:
    """The checked options of a certificate for the (normalised) `domains`. Raises ConfigError
    naming the option; a secret is never part of a message."""
    if not isinstance(raw, Mapping):
        raise ConfigError("challenge dns-01 needs the dns option: a dict with at least `writer` (rfc2136, hook or "
                          "acme-dns) and that writer's settings")
    unknown = sorted(set(raw) - set(_DEFAULTS))
    if unknown:
        raise ConfigError(f"dns has unknown options: {', '.join(map(str, unknown))} (known: {', '.join(_DEFAULTS)})")
    given = {key: value for key, value in raw.items() if value is not None}
    options = DnsOptions(**{**_DEFAULTS, "hook": (), "acme_dns_accounts": {}, "resolvers": (), **given})
    if options.writer not in WRITERS:
        raise ConfigError(f"dns.writer must be one of {', '.join(WRITERS)}, not {options.writer!r}")
    resolvers = tuple(_address(value, "dns.resolvers") for value in _strings(options.resolvers, "dns.resolvers"))
    timeout = _seconds(options.propagation_timeout, "dns.propagation_timeout", 1)
    delay = _seconds(options.propagation_delay, "dns.propagation_delay", 0)
    options = options._replace(resolvers=resolvers, propagation_timeout=timeout, propagation_delay=delay)
    if options.writer == "rfc2136":
        return _rfc2136(options)
    if options.writer == "hook":
        return _hook(options)
    return _acme_dns(options, domains)


def _rfc2136(options: DnsOptions) -> DnsOptions:
    if options.server is None:
        raise ConfigError("dns.writer rfc2136 needs dns.server: the address of the primary nameserver that takes "
                          "the updates")
    server = _address(options.server, "dns.server")
    if isinstance(options.port, bool) or not isinstance(options.port, int) or not 0 < options.port < 65536:
        raise ConfigError(f"dns.port must be a port number, not {options.port!r}")
    if not options.key_name or not options.key_secret:
        raise ConfigError("dns.writer rfc2136 needs dns.key_name and dns.key_secret: the TSIG key the nameserver "
                          "accepts updates with (tsig-keygen NAME prints both)")
    key_name = _key_name(options.key_name)
    if options.key_algorithm not in ALGORITHMS:
        raise ConfigError(f"dns.key_algorithm must be one of {', '.join(ALGORITHMS)}, not {options.key_algorithm!r}")
    secret = options.key_secret
    try:
        decoded = base64.b64decode(secret, validate=True) if isinstance(secret, str) else b""
    except (binascii.Error, ValueError):
        decoded = b""
    if not decoded:
        raise ConfigError(f"dns.key_secret of key {key_name} is not base64: paste the `secret` of the key as "
                          "tsig-keygen printed it")
    return options._replace(server=server, key_name=key_name)


def _hook(options: DnsOptions) -> DnsOptions:
    hook = tuple(_strings(options.hook, "dns.hook"))
    if not hook or not hook[0].startswith("/") or any("\0" in part for part in hook):
        raise ConfigError("dns.writer hook needs dns.hook: a command as a list, its program as an absolute path "
                          "(it is run as HOOK present FQDN VALUE, then HOOK cleanup FQDN VALUE)")
    return options._replace(hook=hook)


def _acme_dns(options: DnsOptions, domains: list[str]) -> DnsOptions:
    url = options.acme_dns_url
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) and url.isascii() and url.isprintable() else None
    if parts is None or parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"dns.acme_dns_url must be the https URL of the acme-dns server, not {url!r}")
    raw = options.acme_dns_accounts
    if not isinstance(raw, Mapping):
        raise ConfigError("dns.acme_dns_accounts must map each name to its acme-dns account "
                          "({username, password, subdomain}, as /register answered)")
    accounts: dict[str, AcmeDnsAccount] = {}
    for name, account in raw.items():
        base = names.normalize([name])[0]
        if not isinstance(account, Mapping) or not all(isinstance(account.get(k), str) and account.get(k)
                                                       for k in AcmeDnsAccount._fields):
            raise ConfigError(f"dns.acme_dns_accounts[{base}] must hold username, password and subdomain, as "
                              "acme-dns' /register answered them")
        if not _ACME_DNS_ID.fullmatch(account["subdomain"]) or not _ACME_DNS_ID.fullmatch(account["username"]):
            raise ConfigError(f"dns.acme_dns_accounts[{base}] has a username or subdomain that acme-dns never "
                              "hands out")
        accounts[base[2:] if base.startswith("*.") else base] = AcmeDnsAccount(
            account["username"], account["password"], account["subdomain"])
    missing = sorted({d[2:] if d.startswith("*.") else d for d in domains} - set(accounts))
    if missing:
        raise ConfigError(f"dns.acme_dns_accounts has no account for {', '.join(missing)}: register one per name "
                          "with acme-dns and point _acme-challenge.NAME at its fulldomain (CNAME)")
    return options._replace(acme_dns_url=str(url).rstrip("/"), acme_dns_accounts=accounts)


def _strings(value: Any, option: str) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) \
            or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{option} must be a list of strings, not {value!r}")
    return list(value)


def _address(value: Any, option: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigError(f"{option} must hold IP addresses, not {value!r}") from None


def _key_name(value: Any) -> str:
    try:
        name = names.normalize([value])[0]
    except ConfigError:
        name = ""
    if not name or name.startswith("*.") or names.ip(name) is not None:
        raise ConfigError(f"dns.key_name {value!r} is not a TSIG key name (a DNS name, as in update-key.example)")
    return name


def _seconds(value: Any, option: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= MAX_WAIT:
        raise ConfigError(f"{option} must be {least} to {MAX_WAIT} seconds, not {value!r}")
    return value
