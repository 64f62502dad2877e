# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The from= value of a pool member's authorized_keys line, checked (see push_from.yml)."""

from __future__ import annotations

import ipaddress
from typing import Any

from ansible.errors import AnsibleFilterError

# A pool has a handful of issuers' addresses at most; a longer list is a mistake.
MAX_ENTRIES = 16


def push_from(value: Any) -> str:
    """IP addresses and networks, comma-separated, in their canonical text: sshd compares from=
    with the address a connection comes from (a host name would need reverse DNS, which sshd does
    not do by default), and a quote or a space would end the authorized_keys option."""
    entries = value.split(",") if isinstance(value, str) and value.strip() else []
    checked = []
    for entry in entries:
        try:
            checked.append(str(ipaddress.ip_network(entry.strip(), strict=False)) if "/" in entry
                           else str(ipaddress.ip_address(entry.strip())))
        except ValueError:
            checked = []
            break
    if not checked or len(checked) > MAX_ENTRIES:
        raise AnsibleFilterError(
            f"the address pool pushes come from is {value!r}; it must be IP addresses or networks (CIDR), separated "
            "by commas: sshd matches authorized_keys' from= against the connecting address. Set "
            "zerodowntime_acme_push_from on the member (it defaults to the issuer's "
            "zerodowntime_acme_push_bind_address, then to zerodowntime_acme_issuer_address or its ansible_host)")
    return ",".join(checked)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"push_from": push_from}
