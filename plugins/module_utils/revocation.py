# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""revoke(spec) -> RevokeOutcome: revoke a lineage's current certificate at the CA that issued it.

The request is signed by the account key, or by the certificate's own key (RFC 8555 7.6) when the
account is lost or the key compromised. The revocation is noted in the version's meta.json, so that
a second run changes nothing and the certificate module replaces the certificate on its next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import lineage, locks, names, times, versions
from .connection import CAConnection
from .errors import AccountError, ConfigError
from .paths import DEFAULT_CERT_DIR

# RFC 5280 5.3.1 CRLReason (7 is unused). Let's Encrypt accepts unspecified, keyCompromise,
# superseded and cessationOfOperation; the CA answers badRevocationReason for the others.
REASONS = {
    "unspecified": 0, "keyCompromise": 1, "cACompromise": 2, "affiliationChanged": 3, "superseded": 4,
    "cessationOfOperation": 5, "certificateHold": 6, "removeFromCRL": 8, "privilegeWithdrawn": 9,
    "aACompromise": 10,
}


@dataclass(frozen=True)
class RevokeSpec:
    """The certificate_revoke module's options."""

    name: str
    cert_dir: str = DEFAULT_CERT_DIR
    ca: CAConnection = field(default_factory=CAConnection)
    reason: str = "unspecified"
    use_certificate_key: bool = False

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> RevokeSpec:
        rest = dict(options)
        return cls(ca=CAConnection.take(rest), **rest)


@dataclass(frozen=True)
class RevokeOutcome:
    changed: bool
    name: str
    serial: str
    reason: str
    msg: str


def revoke(spec: RevokeSpec, *, check_mode: bool = False) -> RevokeOutcome:
    if spec.reason not in REASONS:
        raise ConfigError(f"reason {spec.reason!r} is not an RFC 5280 reason: {', '.join(REASONS)}")
    name = names.check_lineage_name(spec.name)
    ca = spec.ca.checked()
    current = lineage.read(spec.cert_dir, name)
    if current is None or current.cert is None:
        raise ConfigError(f"there is no certificate named '{name}' under {spec.cert_dir} to revoke"
                          + (f" ({current.problem})" if current and current.problem else ""))
    serial = current.cert.serial
    if current.cert.self_signed or current.meta.get("placeholder"):
        raise ConfigError(f"'{name}' holds a self-signed placeholder, which no CA issued; there is nothing to revoke")
    issued_by = current.meta.get("directory_url")
    if issued_by and issued_by != ca.directory_url:
        raise ConfigError(f"'{name}' was issued through {issued_by}, not {ca.directory_url}; "
                          "set directory_url to the CA that issued it")
    done = current.meta.get("revoked")
    if isinstance(done, dict):
        return RevokeOutcome(False, name, serial, str(done.get("reason")),
                             f"serial {serial} was already revoked on {done.get('at')}")
    if check_mode:
        return RevokeOutcome(True, name, serial, spec.reason, f"serial {serial} would be revoked")

    key_path = current.paths.privkey if spec.use_certificate_key else str(ca.account_key)
    with ca.session(key_path=key_path, create_key=False) as session:
        if not spec.use_certificate_key and session.find_account() is None:
            raise AccountError(f"the CA knows no account for {key_path}; revoke with use_certificate_key=true, "
                               "signing with the certificate's own key")
        revoked_now = session.revoke(current.pem, REASONS[spec.reason])
    at = times.iso(times.now())
    with locks.holding(spec.cert_dir, name):
        versions.update_meta(spec.cert_dir, name, {"revoked": {"reason": spec.reason, "at": at}})
    msg = f"serial {serial} revoked ({spec.reason})" if revoked_now else f"serial {serial} was already revoked at the CA"
    return RevokeOutcome(revoked_now, name, serial, spec.reason, msg)
