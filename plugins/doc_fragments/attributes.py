# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes shared by the collection's modules."""

from __future__ import annotations


class ModuleDocFragment:

    # Membership of the `acme` action group (meta/runtime.yml).
    ACTIONGROUP_ACME = r"""
attributes:
  action_group:
    description: Use C(group/zerodowntime.acme.acme) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - zerodowntime.acme.acme
"""
