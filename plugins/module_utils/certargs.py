# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate module's options as ansible-core argument specs: one definition, for the
certificate module and for each element of a host's list in one call."""

from __future__ import annotations

from typing import Any

from . import connection
from .dnsconfig import ARGUMENT_SPEC as DNS_SPEC
from .keyaccess import ARGUMENT_SPEC as KEY_ACCESS_SPEC
from .keytypes import KEY_TYPES
from .paths import DEFAULT_CERT_DIR

# One certificate's options, besides the CA connection's.
CERTIFICATE_SPEC: dict[str, Any] = dict(
    domains=dict(type="list", elements="str", required=True),
    name=dict(type="str"),
    challenge=dict(type="str", choices=["http-01", "dns-01"], default="http-01"),
    webroot=dict(type="path"),
    dns=DNS_SPEC,
    cert_dir=dict(type="path", default=DEFAULT_CERT_DIR),
    account_email=dict(type="str"),
    terms_agreed=dict(type="bool", default=False),
    key_type=dict(type="str", choices=list(KEY_TYPES), default="ec256", no_log=False),
    reuse_key=dict(type="bool", default=False, no_log=False),
    force=dict(type="bool", default=False),
    deploy_hook=dict(type="str"),
    reload_services=dict(type="list", elements="str"),
    self_check=dict(type="bool", default=True),
    renew_before_days=dict(type="int"),
    profile=dict(type="str"),
    profile_required=dict(type="bool", default=False),
    preferred_chain=dict(type="str"),
    **KEY_ACCESS_SPEC,
)

# The certificate module's: the CA connection, then the certificate.
ARGUMENT_SPEC: dict[str, Any] = dict(connection.ARGUMENT_SPEC, **CERTIFICATE_SPEC)

# Options of one run only, never stored as the certificate's.
RUN_OPTIONS = ("force",)
