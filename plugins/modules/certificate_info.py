#!/usr/bin/python
# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificate_info
short_description: Report a certificate's names, expiry and renewal decision, for monitoring
version_added: 0.1.0
description:
  - Reads the lineage O(name) under O(cert_dir) and reports its names, issuer, expiry, days left,
    and whether M(zerodowntime.acme.certificate) would renew it now, why, and when it becomes due.
  - Read-only, and offline unless O(check_ari) is set. Let's Encrypt no longer sends expiry
    e-mails, so run it across a fleet for an expiry report.
  - Without O(domains), O(key_type) and O(profile), the certificate's own are assumed, so that only
    its age and its issuing directory decide.
author:
  - zerodowntime.acme developers (@zerodowntime)
extends_documentation_fragment:
  - zerodowntime.acme.lineage
  - zerodowntime.acme.attributes.actiongroup_acme
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  directory_url:
    description:
      - The ACME directory the certificate should come from. A certificate from elsewhere (a
        placeholder, for example) is reported as due.
      - By default, the directory that issued the certificate, as stored beside it, so that a
        certificate from Let's Encrypt's staging CA or from another CA is judged by its own CA.
        Let's Encrypt's production directory for a certificate that has none stored.
    type: str
  domains:
    description: The names the certificate should have; a different set is reported as due.
    type: list
    elements: str
  key_type:
    description: The key type the certificate should have.
    type: str
    choices: [ec256, ec384, rsa2048, rsa3072, rsa4096]
  profile:
    description: The profile the certificate should be ordered with.
    type: str
  renew_before_days:
    description: As in M(zerodowntime.acme.certificate).
    type: int
  check_ari:
    description:
      - Ask the CA for the certificate's renewal window (ARI, RFC 9773) now, store it, and return it
        as RV(ari_window). The next M(zerodowntime.acme.certificate) run acts on it, for example
        on a window that the CA moved to now after a revocation.
      - Needs network access to the CA. Without it the module never leaves the host.
    type: bool
    default: false
  ca_bundle:
    description:
      - Extra CA certificates to trust for the ACME server's HTTPS (with O(check_ari)), and where the
        root of a private CA is looked up for RV(chain_roots).
    type: path
  validate_certs:
    description: Verify the ACME server's TLS certificate (with O(check_ari)).
    type: bool
    default: true
  timeout:
    description: Overall time in seconds for the exchange with the CA (with O(check_ari)), from 1 to 3600.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Read the state of www.example.org's certificate
  zerodowntime.acme.certificate_info:
    name: www.example.org
  register: cert

- name: Complain about certificates that expire within 14 days
  ansible.builtin.assert:
    that: cert.days_left > 14
    fail_msg: "{{ inventory_hostname }}: {{ cert.name }} expires {{ cert.not_after }} ({{ cert.reason }})"
"""

RETURN = r"""
name:
  description: The lineage's name.
  returned: always
  type: str
exists:
  description: Whether a readable certificate is in place.
  returned: always
  type: bool
domains:
  description: The certificate's names (empty when none exists).
  returned: always
  type: list
  elements: str
issuer:
  description: The issuer's distinguished name.
  returned: when RV(exists) is true
  type: str
  sample: CN=E6,O=Let's Encrypt,C=US
serial:
  description: The serial number in lower-case hex.
  returned: when RV(exists) is true
  type: str
not_before:
  description: Start of validity, ISO 8601 UTC.
  returned: when RV(exists) is true
  type: str
not_after:
  description: End of validity, ISO 8601 UTC.
  returned: when RV(exists) is true
  type: str
  sample: "2027-02-27T10:00:00Z"
days_left:
  description: Days until RV(not_after), with two decimals; negative once expired.
  returned: when RV(exists) is true
  type: float
  sample: 57.25
due:
  description: Whether M(zerodowntime.acme.certificate) would renew it now.
  returned: always
  type: bool
reason:
  description: One sentence on why it is due, or why not.
  returned: always
  type: str
renew_at:
  description: When it becomes due, ISO 8601 UTC.
  returned: when known
  type: str
received_from:
  description: For a pool member's certificate, the issuer that sent it (its inventory name).
  returned: always (null unless received)
  type: str
  sample: web1
reload_pending:
  description:
    - Whether this certificate was written after the web server's last successful reload (a
      reload that failed, or a play that stopped before its handlers). The next
      C(zerodowntime-acme renew) reloads.
  returned: always
  type: bool
issued_at:
  description: When this collection obtained the certificate (its last renewal), ISO 8601 UTC.
  returned: when the certificate was obtained by this collection
  type: str
chain_roots:
  description:
    - The root certificates (PEM) that the certificate's chain leads to, as recorded when it was
      ordered (or, for one ordered before they were recorded, looked up now in the chain,
      O(ca_bundle) and the system's trust store). A pool's members trust only chains that lead to
      the roots their issuer reports here (M(zerodowntime.acme.certificate_install)'s
      O(zerodowntime.acme.certificate_install#module:pool_roots)).
    - Empty for a placeholder, or when the root is nowhere to be found (a private CA whose root is
      not in O(ca_bundle)).
  returned: when RV(exists) is true
  type: list
  elements: str
ari_window:
  description: The renewal window the CA suggests, the point chosen in it, and when to ask again.
  returned: when O(check_ari) is set and the CA offers ARI
  type: dict
  contains:
    start:
      description: Start of the window, ISO 8601 UTC.
      type: str
    end:
      description: End of the window, ISO 8601 UTC.
      type: str
    chosen:
      description: The random point in the window at which the certificate is due.
      type: str
    retry_after:
      description: When the CA wants to be asked again.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zerodowntime.acme.plugins.module_utils import connection
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AcmeError
from ansible_collections.zerodowntime.acme.plugins.module_utils.info import inspect
from ansible_collections.zerodowntime.acme.plugins.module_utils.keytypes import KEY_TYPES
from ansible_collections.zerodowntime.acme.plugins.module_utils.paths import DEFAULT_CERT_DIR

# The connection options this module takes (it signs nothing: no account key).
CONNECTION = ("directory_url", "ca_bundle", "validate_certs", "timeout")
ARGUMENT_SPEC = dict(
    {option: connection.ARGUMENT_SPEC[option] for option in CONNECTION},
    directory_url=dict(type="str"),  # default: the lineage's own CA
    name=dict(type="str", required=True),
    cert_dir=dict(type="path", default=DEFAULT_CERT_DIR),
    domains=dict(type="list", elements="str"),
    key_type=dict(type="str", choices=list(KEY_TYPES), no_log=False),
    profile=dict(type="str"),
    renew_before_days=dict(type="int"),
    check_ari=dict(type="bool", default=False),
)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    try:
        result = inspect(params["cert_dir"], params["name"], {option: params[option] for option in CONNECTION},
                         check_ari=params["check_ari"], domains=params["domains"], key_type=params["key_type"],
                         profile=params["profile"], renew_before_days=params["renew_before_days"])
    except AcmeError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
