# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The key types a certificate can have, by name. Plain data, so that checking a key_type option
loads no crypto library (keys.py turns the names into keys)."""

from __future__ import annotations

KEY_TYPES = ("ec256", "ec384", "rsa2048", "rsa3072", "rsa4096")
CURVES = {"ec256": "secp256r1", "ec384": "secp384r1"}
