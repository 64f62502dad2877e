#!/usr/bin/python
# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: account
short_description: Create an ACME account, keep its contacts, roll its key over, or deactivate it
version_added: 0.1.0
description:
  - Makes sure the ACME account of O(account_key) at O(directory_url) is as described.
  - With O(state=present) it creates the account when the CA knows none for the key (O(terms_agreed)
    is needed, and O(eab_kid)/O(eab_hmac_key) when the CA requires an external account binding),
    and updates its contacts to O(account_email).
  - With O(new_account_key) it rolls the account over to that key (RFC 8555 7.3.5), creating the
    key when the file does not exist. Once the CA has accepted it, the new key is written to
    O(account_key) in one rename, so that every task that names O(account_key) goes on working.
    A run interrupted in between is finished by the next one.
  - With O(state=absent) it deactivates the account. The CA then refuses every request signed by
    its key, for good; certificates already issued stay valid.
  - M(zerodowntime.acme.certificate) uses the same account (the key decides), and creates it
    itself when needed, so this module is only needed for contacts, key rollover, external
    account binding and deactivation.
author:
  - zerodowntime.acme developers (@zerodowntime)
extends_documentation_fragment:
  - zerodowntime.acme.acme
  - zerodowntime.acme.acme.account
  - zerodowntime.acme.attributes.actiongroup_acme
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the account at the CA (a read changes nothing there), and reports what would change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the status, the contacts and the key's thumbprint, before and after.
options:
  state:
    description:
      - V(present) creates the account when missing and keeps its contacts.
      - V(absent) deactivates it. An account cannot be reactivated.
    type: str
    choices: [present, absent]
    default: present
  account_email:
    description:
      - The account's contact address. When set, the account's contacts are made exactly this one
        address; an empty string removes every contact. When not set, the contacts stay as they are.
  new_account_key:
    description:
      - Roll the account over to the private key (PEM) in this file on the managed host. It is
        created (EC P-256, mode C(0600)) when it does not exist.
      - Afterwards O(account_key) holds the new key, and this file can be removed.
    type: path
  eab_kid:
    description:
      - The key identifier of an external account binding (RFC 8555 7.3.4), from the CA.
      - Only used when the account is created.
    type: str
  eab_hmac_key:
    description:
      - The base64url-encoded HMAC key of the external account binding, from the CA.
    type: str
notes:
  - The account key is never returned or logged; the diff shows its RFC 7638 thumbprint only.
seealso:
  - module: zerodowntime.acme.certificate
  - name: RFC 8555, section 7.3
    description: Account management.
    link: https://www.rfc-editor.org/rfc/rfc8555#section-7.3
"""

EXAMPLES = r"""
- name: Create the account, with a contact address
  zerodowntime.acme.account:
    account_email: hostmaster@example.org
    terms_agreed: true

- name: Create an account with a CA that requires an external account binding
  zerodowntime.acme.account:
    directory_url: https://acme.example-ca.com/v2/directory
    account_key: /etc/zerodowntime-acme/accounts/example-ca.pem
    terms_agreed: true
    eab_kid: "{{ vault_eab_kid }}"
    eab_hmac_key: "{{ vault_eab_hmac_key }}"

- name: Roll the account key over; account_key holds the new key afterwards
  zerodowntime.acme.account:
    new_account_key: /etc/zerodowntime-acme/accounts/next.pem

- name: Deactivate the account
  zerodowntime.acme.account:
    state: absent
"""

RETURN = r"""
account_url:
  description: The account's URL at the CA.
  returned: when the account exists (or, in check mode, when it existed before)
  type: str
  sample: https://acme-v02.api.letsencrypt.org/acme/acct/123456789
status:
  description:
    - The account's status after the task; V(absent) when the CA knows no account for the key.
  returned: always
  type: str
  sample: valid
contacts:
  description: The account's contacts after the task.
  returned: always
  type: list
  elements: str
  sample: ["mailto:hostmaster@example.org"]
actions:
  description: What the task did (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["created", "key rolled over"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zerodowntime.acme.plugins.module_utils import connection
from ansible_collections.zerodowntime.acme.plugins.module_utils.account import STATES, AccountSpec, manage
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AcmeError

ARGUMENT_SPEC = dict(
    connection.ARGUMENT_SPEC,
    account_email=dict(type="str"),
    terms_agreed=dict(type="bool", default=False),
    state=dict(type="str", choices=list(STATES), default="present"),
    new_account_key=dict(type="path", no_log=False),
    eab_kid=dict(type="str"),
    eab_hmac_key=dict(type="str", no_log=True),
)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_together=[("eab_kid", "eab_hmac_key")])
    try:
        outcome = manage(AccountSpec.from_options(module.params), check_mode=module.check_mode)
    except AcmeError as exc:
        module.fail_json(msg=str(exc))
    result = dict(changed=outcome.changed, account_url=outcome.account_url, status=outcome.status,
                  contacts=outcome.contacts, actions=outcome.actions)
    if module._diff:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
