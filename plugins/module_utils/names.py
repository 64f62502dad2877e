# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names a certificate is for: checked and normalised before anything is ordered."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Sequence

from .errors import ConfigError

# Let's Encrypt's limit for the classic profile; other CAs allow no more in practice.
MAX_NAMES = 100
# Matched whole (re.fullmatch): `$` would let a trailing newline through.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_LINEAGE_NAME = 128
_LINEAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,%d}" % (MAX_LINEAGE_NAME - 1))
# A last label of digits (or 0x and hex digits) makes a name that resolvers read as an address
# (127.1, 0x7f.1, 127.0.0.01): no top-level domain looks like that (RFC 3696 2).
_NUMERIC_TLD = re.compile(r"[0-9]+|0x[0-9a-f]*")


def normalize(domains: Sequence[Any]) -> list[str]:
    """Lower-case A-label names in the given order, without duplicates. Raises ConfigError."""
    if isinstance(domains, (str, bytes)) or not isinstance(domains, (list, tuple)):
        raise ConfigError(f"domains must be a list of DNS names, not {domains!r}")
    if not domains:
        raise ConfigError("domains is empty: give at least one DNS name")
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


def _one(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{raw!r} is not a DNS name")
    if any(ord(c) < 33 or 127 <= ord(c) < 160 for c in raw):
        raise ConfigError(f"{raw!r} is not a DNS name: it holds spaces or control characters")
    name = raw.rstrip(".").lower()
    if "*" in name:
        raise ConfigError(
            f"{raw} is a wildcard: wildcards need the dns-01 challenge, and this collection does "
            "only http-01; list the names themselves instead"
        )
    if _is_ip(name):
        raise ConfigError(f"{raw} is an IP address: this collection issues for DNS names only (IP addresses are not supported yet)")
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
                          "read as an address; give a DNS name")
    return name


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


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
