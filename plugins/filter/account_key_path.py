# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the modules keep the account key of a CA by default (see account_key_path.yml)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.zerodowntime.acme.plugins.module_utils import accountkeys


def account_key_path(directory_url: Any) -> str:
    if not isinstance(directory_url, str) or not directory_url:
        raise AnsibleFilterError(f"account_key_path wants a directory URL, not {directory_url!r}")
    return accountkeys.default_path(directory_url)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"account_key_path": account_key_path}
