# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names a certificate is for, DNS names and IP addresses (RFC 8738): checked and normalised
before anything is ordered."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Sequence

from .addresses import ip
from .errors import ConfigError

# Let's Encrypt's limit for the classic profile; other CAs allow no more in practice.
MAX_NAMES = 100
# Matched whole (re.fullmatch): `$` would let a trailing newline through.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_LINEAGE_NAME = 128
_LINEAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,%d}" % (MAX_LINEAGE_NAME - 1))
# An inventory host name as a pool names its issuer and members (in messages, metrics, SSH options).
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
# A host's name or address as SSH dials it (never starting with '-', never an option).
HOST_ADDRESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:_-]{0,252}")
# A last label of digits (or 0x and hex digits) makes a name that resolvers read as an address
# (127.1, 0x7f.1, 127.0.0.01): no top-level domain looks like that (RFC 3696 2).
_NUMERIC_TLD = re.compile(r"[0-9]+|0x[0-9a-f]*")


def normalize(domains: Sequence[Any]) -> list[str]:
    """Lower-case A-label names (a wildcard as *.NAME) and IP addresses in their canonical text
    (RFC 5952 for IPv6), in the given order, without duplicates. Raises ConfigError."""
    if isinstance(domains, (str, bytes)) or not isinstance(domains, (list, tuple)):
        raise ConfigError(f"domains must be a list of DNS names or IP addresses, not {domains!r}")
    if not domains:
        raise ConfigError("domains is empty: give at least one DNS name or IP address")
    result: list[str] = []
    for raw in domains:
        name = _one(raw)
        if name not in result:
            result.append(name)
    if len(result) > MAX_NAMES:
        raise ConfigError(
            f"{len(result)} names given, but a certificate holds at most {MAX_NAMES}; "
            "split them over several certificates"
        )
    return result


def lineage_name(domains: Sequence[Any], name: str | None = None) -> str:
    """The lineage (folder) name of a certificate: `name`, or else its first DNS name as an A-label.
    The one rule for every front: the modules, the CLI and the role (through its filters). The
    names are checked either way."""
    first = normalize(domains)[0]
    if name is None or name == "":
        first = first[2:] if first.startswith("*.") else first  # *.example.org lives in example.org, as with certbot
        address = ip(first)
        if address is not None:
            return _folder_name(address)
        if len(first) > MAX_LINEAGE_NAME:
            raise ConfigError(f"the first name {first} is longer than {MAX_LINEAGE_NAME} characters, too long for "
                              "the certificate's folder name: set `name` for this certificate")
        return first
    return check_lineage_name(name)


def check_lineage_name(name: Any) -> str:
    """The lineage name becomes a folder name: keep it to a safe, single path component."""
    if not isinstance(name, str) or not _LINEAGE_NAME.fullmatch(name):
        raise ConfigError(
            f"name {name!r} cannot be a folder name: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return name


def check_host_name(host: Any, what: str = "host") -> str:
    """An inventory host name (a pool's issuer or member): letters, digits, '.', '_' and '-'."""
    if not isinstance(host, str) or not HOST_NAME.fullmatch(host):
        raise ConfigError(f"{what} {host!r} is not an inventory host name (letters, digits, '.', '_' and '-')")
    return host


def _one(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{raw!r} is not a DNS name")
    if any(ord(c) < 33 or 127 <= ord(c) < 160 for c in raw):
        raise ConfigError(f"{raw!r} is not a DNS name: it holds spaces or control characters")
    name = raw.rstrip(".").lower()
    if name.startswith("*.") and "*" not in name[2:]:
        # A wildcard (RFC 8555 7.1.3): the CA validates the name below it, over dns-01 only
        # (responders.check_options says so for http-01).
        base = _one(raw.strip()[2:])
        if ip(base) is not None:
            raise ConfigError(f"{raw} is a wildcard over an IP address; only DNS names take a wildcard")
        return "*." + base
    if "*" in name:
        raise ConfigError(f"{raw} is not a valid wildcard: only the whole leftmost label may be '*', as in "
                          "*.example.org")
    address = _address(raw.strip(), raw)
    if address is not None:
        return str(address)
    if not name.isascii():
        name = _to_a_label(raw, name)
    if len(name) > 253:
        raise ConfigError(f"{raw} is too long: a DNS name has at most 253 characters")
    for label in name.split("."):
        if not _LABEL.fullmatch(label):
            raise ConfigError(
                f"{raw!r} is not a valid DNS name: each dot-separated label needs 1 to 63 letters, "
                "digits or inner hyphens"
            )
    if _NUMERIC_TLD.fullmatch(name.rsplit(".", 1)[-1]):
        raise ConfigError(f"{raw} looks like an IP address (its last label is a number), which resolvers "
                          "read as an address; give a DNS name, or the IP address in full (127.0.0.1)")
    return name


def _folder_name(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """127.0.0.5 -> ip-127-0-0-5; 2001:db8::5 -> ip6-2001-db8-0-0-0-0-0-5 (every group, so that
    no two addresses share a folder)."""
    if address.version == 4:
        return "ip-" + str(address).replace(".", "-")
    return "ip6-" + "-".join(format(int(group, 16), "x") for group in address.exploded.split(":"))


def _address(text: str, raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IPv4 or IPv6 literal (an IPv6 one also in brackets), or None for anything else."""
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return None
    if bare != text and address.version == 4:
        raise ConfigError(f"{raw} puts an IPv4 address in brackets, which only IPv6 addresses take; give {address}")
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        raise ConfigError(f"{raw} has a zone ({address.scope_id}), which means nothing outside this host; "
                          "give the address without %zone")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        raise ConfigError(f"{raw} is an IPv4 address written as IPv6; give it as {address.ipv4_mapped}")
    return address


def _to_a_label(raw: str, name: str) -> str:
    # CAs take internationalised names as punycode (A-labels). Prefer IDNA 2008 (the `idna` package,
    # which requests brings along); fall back to Python's built-in IDNA 2003 codec.
    try:
        import idna

        return str(idna.encode(name, uts46=True).decode("ascii"))
    except ImportError:
        pass
    except idna.IDNAError as exc:
        raise ConfigError(f"{raw} is not a valid internationalised domain name ({exc})") from exc
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ConfigError(f"{raw} is not a valid internationalised domain name ({exc})") from exc
