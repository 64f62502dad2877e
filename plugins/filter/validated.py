# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A certificate's names and lineage name, checked by the engine's own rules (see validated.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.zerodowntime.acme.plugins.module_utils import keyaccess, names, spec
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def validated(certificate: Any) -> dict[str, Any]:
    if not isinstance(certificate, Mapping) or "domains" not in certificate:
        raise AnsibleFilterError(f"validated wants a certificate with 'domains', not {certificate!r}")
    try:
        # Whether key_owner and key_group exist is the host's business: the module checks it there.
        keyaccess.parse_mode(certificate.get("key_mode"))
        keyaccess.check_account("key_owner", certificate.get("key_owner"))
        keyaccess.check_account("key_group", certificate.get("key_group"))
        spec.check_followups(certificate.get("reload_services"), certificate.get("deploy_hook"))
        return {"name": names.lineage_name(certificate["domains"], certificate.get("name")),
                "domains": names.normalize(certificate["domains"])}
    except ConfigError as exc:
        raise AnsibleFilterError(f"certificate {certificate.get('name') or certificate['domains']!r}: {exc}") from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"validated": validated}
