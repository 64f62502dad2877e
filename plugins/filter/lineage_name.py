# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lineage name of a certificate, by the engine's own rule (see lineage_name.yml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.zerodowntime.acme.plugins.module_utils import names
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def lineage_name(certificate: Any) -> str:
    if not isinstance(certificate, Mapping) or "domains" not in certificate:
        raise AnsibleFilterError(f"lineage_name wants a certificate with 'domains', not {certificate!r}")
    try:
        return names.lineage_name(certificate["domains"], certificate.get("name"))
    except ConfigError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"lineage_name": lineage_name}
