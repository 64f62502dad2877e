# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IP addresses among a certificate's names (RFC 8738): which names are addresses, and how an
address is written in a URL. Below every layer that needs it; names.py checks and normalises."""

from __future__ import annotations

import ipaddress


def ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address when a normalised name is an IP address, else None."""
    if not name[:1].isdigit() and ":" not in name:
        return None  # a DNS name: the common case, decided without parsing
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def host(name: str) -> str:
    """The name as the host part of a URL or a Host header: an IPv6 address in brackets."""
    return f"[{name}]" if ":" in name else name
