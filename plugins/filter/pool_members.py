# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The members of a pool, from the play's inventory (see pool_members.yml)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.zerodowntime.acme.plugins.module_utils import names
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def pool_members(certificate: Any, issuer: str, hostvars: Mapping[str, Any], play_hosts: Sequence[str]) -> list[dict]:
    if not isinstance(certificate, Mapping) or "domains" not in certificate:
        raise AnsibleFilterError(f"pool_members wants a certificate with 'domains', not {certificate!r}")
    try:
        wanted = names.lineage_name(certificate["domains"], certificate.get("name"))
        members = []
        for host in play_hosts:
            if host == issuer:
                continue
            facts = hostvars[host]
            for item in facts.get("zerodowntime_acme_certificates") or []:
                if isinstance(item, Mapping) and item.get("issuer") == issuer \
                        and item.get("state", "present") == "present" \
                        and names.lineage_name(item["domains"], item.get("name")) == wanted:
                    address = facts.get("zerodowntime_acme_push_address") or facts.get("ansible_host") or host
                    members.append({"host": host, "address": str(address)})
                    break
        return members
    except (ConfigError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"pool_members: {exc}") from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"pool_members": pool_members}
