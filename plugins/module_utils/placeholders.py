# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""place(spec): a self-signed pair where a certificate has none yet, so that the web server's
configuration test passes before the first issuance (the roles run `zerodowntime-acme placeholder`).
Never over a certificate in place; the first renewal replaces it, and no hook runs for it."""

from __future__ import annotations

from . import keyaccess, lineage, locks
from .spec import CertificateSpec


def place(spec: CertificateSpec) -> bool:
    """Write the placeholder of a validated spec; False when the lineage already holds a certificate."""
    from . import keys, versions  # cryptography: needed here only

    keys.require_cryptography()
    name = str(spec.name)
    with locks.holding(spec.cert_dir, name):
        if lineage.read(spec.cert_dir, name) is not None:
            return False
        key = keys.generate(spec.key_type)
        versions.write(spec.cert_dir, name, keys.to_pem(key), keys.self_signed(key, spec.domains),
                       {"placeholder": True, "domains": spec.domains},
                       access=keyaccess.resolve(spec.key_owner, spec.key_group, spec.key_mode),
                       combined=spec.combined)
    return True
