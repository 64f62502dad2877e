#!/usr/bin/python
# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificate_revoke
short_description: Revoke a certificate at the ACME CA that issued it
version_added: 0.1.0
description:
  - Revokes the current certificate of the lineage O(name) under O(cert_dir) at O(directory_url),
    with an RFC 5280 O(reason).
  - The request is signed by the account key, or with O(use_certificate_key) by the certificate's
    own private key, which works without the account (lost, or another host's).
  - The revocation is noted beside the certificate, so a second run changes nothing, and the next
    run of M(zerodowntime.acme.certificate) replaces the revoked certificate. A certificate the CA
    reports as already revoked is noted as well, without a change.
  - The files stay in place until then, so nginx keeps serving; clients that check revocation
    will refuse the certificate, so renew right after.
author:
  - zerodowntime.acme developers (@zerodowntime)
extends_documentation_fragment:
  - zerodowntime.acme.lineage
  - zerodowntime.acme.acme
  - zerodowntime.acme.attributes.actiongroup_acme
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports whether the certificate would be revoked, without contacting the CA.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  reason:
    description:
      - The RFC 5280 revocation reason.
      - Let's Encrypt accepts V(unspecified), V(keyCompromise), V(superseded) and
        V(cessationOfOperation); with V(keyCompromise) it also blocks the key from future
        certificates.
    type: str
    choices: [unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation,
              certificateHold, removeFromCRL, privilegeWithdrawn, aACompromise]
    default: unspecified
  use_certificate_key:
    description:
      - Sign the request with the certificate's own private key instead of the account key.
    type: bool
    default: false
seealso:
  - module: zerodowntime.acme.certificate
  - name: RFC 8555, section 7.6
    description: Certificate revocation.
    link: https://www.rfc-editor.org/rfc/rfc8555#section-7.6
"""

EXAMPLES = r"""
- name: Revoke a certificate whose key leaked, then replace it at once
  zerodowntime.acme.certificate_revoke:
    name: www.example.org
    reason: keyCompromise
    use_certificate_key: true

- name: Obtain the replacement
  zerodowntime.acme.certificate:
    domains: [www.example.org]
    webroot: /var/www/well-known
  notify: Reload nginx
"""

RETURN = r"""
name:
  description: The lineage's name.
  returned: always
  type: str
  sample: www.example.org
serial:
  description: The serial number of the certificate, in lower-case hex.
  returned: always
  type: str
  sample: 4a3b2c1d
reason:
  description: The revocation reason (of the earlier revocation, when it was already revoked).
  returned: always
  type: str
  sample: keyCompromise
msg:
  description: What happened, in one sentence.
  returned: always
  type: str
  sample: serial 4a3b2c1d revoked (keyCompromise)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zerodowntime.acme.plugins.module_utils import connection
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AcmeError
from ansible_collections.zerodowntime.acme.plugins.module_utils.revocation import REASONS, RevokeSpec, revoke
from ansible_collections.zerodowntime.acme.plugins.module_utils.paths import DEFAULT_CERT_DIR

ARGUMENT_SPEC = dict(
    connection.ARGUMENT_SPEC,
    name=dict(type="str", required=True),
    cert_dir=dict(type="path", default=DEFAULT_CERT_DIR),
    reason=dict(type="str", choices=list(REASONS), default="unspecified"),
    use_certificate_key=dict(type="bool", default=False, no_log=False),
)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        outcome = revoke(RevokeSpec.from_options(module.params), check_mode=module.check_mode)
    except AcmeError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=outcome.changed, name=outcome.name, serial=outcome.serial, reason=outcome.reason,
                     msg=outcome.msg)


if __name__ == "__main__":
    main()
