# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that every front's options share: types and paths. The modules' argument specs check
types too, but the host CLI reads its options from JSON files, which are input like any other."""

from __future__ import annotations

from typing import Any, Mapping

from .errors import ConfigError


def check_types(options: Any, types: Mapping[str, Any]) -> None:
    """Raise ConfigError for an option of the wrong type (the CLI's JSON files are input too)."""
    for option, wanted in types.items():
        value = getattr(options, option)
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ConfigError(f"{option} has the wrong type: {value!r}")


def check_path(option: str, path: str) -> None:
    """A folder option must be an absolute path without control characters."""
    if not path.startswith("/") or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ConfigError(f"{option} must be an absolute path without control characters, not {path!r}")
