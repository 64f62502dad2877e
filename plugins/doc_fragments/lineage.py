# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options that name an existing lineage (certificate_info, certificate_revoke)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  name:
    description: The lineage's name (its folder under O(cert_dir)).
    type: str
    required: true
  cert_dir:
    description: Where lineages live.
    type: path
    default: /etc/zerodowntime-acme/live
"""
