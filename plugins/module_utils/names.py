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
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_LINEAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def normalize(domains: Sequence[Any]) -> list[str]:
    """Lower-case A-label names in the given order, without duplicates. Raises ConfigError."""
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
    The one rule for every front: the modules, the CLI and the role (through its filter)."""
    return check_lineage_name(name or normalize(domains)[0])


def check_lineage_name(name: str) -> str:
    """The lineage name becomes a folder name: keep it to a safe, single path component."""
    if not _LINEAGE_NAME.match(name or ""):
        raise ConfigError(
            f"name {name!r} cannot be a folder name: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return name


def _one(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{raw!r} is not a DNS name")
    name = raw.strip().rstrip(".").lower()
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
        if not _LABEL.match(label):
            raise ConfigError(
                f"{raw} is not a valid DNS name: each dot-separated label needs 1 to 63 letters, "
                "digits or inner hyphens"
            )
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
