# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Account-key files: where an ACME server's key lives by default, reading one, and creating a
missing one (EC P-256, 0600 in a 0700 folder). The client turns the key into a JWK; this file
never talks to a CA. `cryptography` is loaded only when a key is read or made."""

from __future__ import annotations

import os
import urllib.parse
from typing import Any

from . import files
from .errors import AccountError
from .paths import ACCOUNTS_DIR


def default_path(directory_url: str) -> str:
    """One account key per ACME server: /etc/zerodowntime-acme/accounts/HOST[_PORT].pem."""
    parts = urllib.parse.urlsplit(directory_url)
    host = (parts.hostname or "unknown").lower()
    label = f"{host}_{parts.port}" if parts.port else host
    return os.path.join(ACCOUNTS_DIR, label + ".pem")


def load(path: str, create: bool = True) -> Any:
    """The private key at `path`; created when missing and `create` holds."""
    from . import keys

    keys.require_cryptography()
    try:
        with open(path, "rb") as f:
            pem = f.read()
    except FileNotFoundError:
        if not create:
            raise AccountError(f"the key {path} does not exist") from None
        pem = create_key(path)
    except OSError as exc:
        raise AccountError(f"cannot read the account key {path}: {exc.strerror}; check its permissions") from exc
    try:
        return keys.load_pem(pem)
    except (ValueError, TypeError) as exc:
        raise AccountError(
            f"the account key {path} is not an unencrypted PEM private key ({exc}); point account_key at "
            "a valid key, or move the file away to create a new account"
        ) from exc


def create_key(path: str) -> bytes:
    """A new EC P-256 key at `path` (which must not exist), in PEM."""
    from . import keys

    keys.require_cryptography()
    pem = keys.to_pem(keys.generate("ec256"))
    try:
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        files.write_new(path, pem, 0o600)
    except OSError as exc:
        raise AccountError(f"cannot create the account key {path}: {exc}") from exc
    return pem
