#!/usr/bin/python
# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificate_install
short_description: Install a certificate that another host obtained, as one atomic swap
version_added: 0.1.0
description:
  - Puts the certificate and private key that a pool's issuer obtained in place on a member of the
    pool, as the lineage O(name) under O(cert_dir), so that every server behind a load balancer
    serves the same certificate and only the issuer talks to the CA.
  - Checks what it gets before anything is written, as M(zerodowntime.acme.certificate) checks the
    CA's answer. The key must match the certificate, the certificate must be for exactly
    O(domains), its chain must hold together (names and signatures), and it must not be older than
    the certificate in place. Otherwise the task fails and nothing is installed.
  - It must also be valid now (it may start at most five minutes ahead of this host's clock) and
    come with at least one intermediate certificate; with O(pool_roots), its chain must lead to one
    of those roots.
  - The same certificate in place already is no change. A new one replaces key, certificate, chain
    and full chain in one atomic swap, keeps the previous version, and notes that nginx must
    reload (the C(zerodowntime.acme.nginx) role's handler, or the next C(zerodowntime-acme renew)).
  - The C(zerodowntime.acme.certificates) role uses it to distribute a pool's certificate in the play;
    between plays, the issuer's C(zerodowntime-acme renew) pushes new versions itself.
author:
  - zerodowntime.acme developers (@zerodowntime)
extends_documentation_fragment:
  - zerodowntime.acme.lineage
  - zerodowntime.acme.key_access
  - zerodowntime.acme.attributes.actiongroup_acme
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Checks what it got and reports whether it would be installed.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the serial and expiry, before and after.
options:
  domains:
    description:
      - The names this host serves the certificate for. The certificate must be for exactly these.
    type: list
    elements: str
    required: true
  privkey:
    description:
      - The private key (PEM) that goes with the certificate. Never logged and never returned.
    type: str
    required: true
  fullchain:
    description:
      - The certificate followed by its chain (PEM), as the issuer's C(fullchain.pem).
    type: str
    required: true
  issuer:
    description:
      - The host that obtained the certificate (its inventory name), noted beside it and shown by
        C(zerodowntime-acme status) ("received from web1").
    type: str
    required: true
  directory_url:
    description:
      - The ACME directory the issuer obtained it from, noted beside it so that
        M(zerodowntime.acme.certificate_info) judges it by that CA.
    type: str
  issued_at:
    description: When the issuer obtained it, ISO 8601 UTC, for monitoring.
    type: str
  ari:
    description:
      - Whether the CA offered renewal information (ARI) when it issued it. A member never asks the
        CA; should this host become the pool's issuer, it renews with C(replaces).
    type: bool
    default: false
  pool_roots:
    description:
      - The root certificates (PEM) that the pool's issuer recorded for its chain (RV(zerodowntime.acme.certificate_info#module:chain_roots)
        on the issuer). The chain must lead to one of them; they are kept beside the certificate,
        so that C(zerodowntime-acme receive) checks what the issuer pushes later against them too.
      - Take them from the issuer, never from what the issuer sends, because whoever holds a push
        key (a retired issuer, say) writes what is sent.
    type: list
    elements: str
notes:
  - Pass the key through the controller's memory only, with C(no_log) on the task that reads it
    (for example M(ansible.builtin.slurp)) as on this one.
seealso:
  - module: zerodowntime.acme.certificate
  - module: zerodowntime.acme.certificate_info
"""

EXAMPLES = r"""
- name: Read the pool's certificate on its issuer
  ansible.builtin.slurp:
    src: "/etc/zerodowntime-acme/live/www.example.org/{{ item }}"
  loop: [privkey.pem, fullchain.pem]
  register: issued
  delegate_to: web1
  no_log: true

- name: Install it on this member
  zerodowntime.acme.certificate_install:
    name: www.example.org
    domains: [www.example.org, example.org]
    privkey: "{{ issued.results[0].content | b64decode }}"
    fullchain: "{{ issued.results[1].content | b64decode }}"
    issuer: web1
  no_log: true
  notify: zerodowntime_acme reload
"""

RETURN = r"""
changed:
  description: Whether a new certificate was installed (or, in check mode, would be).
  returned: always
  type: bool
reason:
  description: One sentence on what happened.
  returned: always
  type: str
  sample: a new certificate from web1
name:
  description: The lineage's name.
  returned: always
  type: str
serial:
  description: The serial number of the certificate now in place, in lower-case hex.
  returned: always
  type: str
not_after:
  description: End of its validity, ISO 8601 UTC.
  returned: always
  type: str
paths:
  description: The files of the lineage (see M(zerodowntime.acme.certificate)).
  returned: always
  type: dict
repaired:
  description:
    - The key files whose owner, group or mode were put back to O(key_owner), O(key_group) and
      O(key_mode), and C(combined.pem) written or removed to agree with O(combined).
  returned: when any
  type: list
  elements: str
  sample: ["version 2 privkey.pem: group root -> ssl-cert"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AcmeError
from ansible_collections.zerodowntime.acme.plugins.module_utils.install import Bundle, install
from ansible_collections.zerodowntime.acme.plugins.module_utils.keyaccess import ARGUMENT_SPEC as KEY_ACCESS_SPEC
from ansible_collections.zerodowntime.acme.plugins.module_utils.keyaccess import check_account, resolve
from ansible_collections.zerodowntime.acme.plugins.module_utils.paths import DEFAULT_CERT_DIR

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    cert_dir=dict(type="path", default=DEFAULT_CERT_DIR),
    domains=dict(type="list", elements="str", required=True),
    privkey=dict(type="str", required=True, no_log=True),
    fullchain=dict(type="str", required=True),
    issuer=dict(type="str", required=True),
    directory_url=dict(type="str"),
    issued_at=dict(type="str"),
    ari=dict(type="bool", default=False),
    pool_roots=dict(type="list", elements="str"),
    **KEY_ACCESS_SPEC,
)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    try:
        bundle = Bundle.from_fields({field: params[field] for field in (
            "name", "privkey", "fullchain", "issuer", "directory_url", "issued_at", "ari")})
        check_account("key_owner", params["key_owner"])
        check_account("key_group", params["key_group"])
        access = resolve(params["key_owner"], params["key_group"], params["key_mode"])
        outcome = install(params["cert_dir"], params["name"], params["domains"], bundle, check_mode=module.check_mode,
                          access=access, combined=params["combined"], trusted_roots=params["pool_roots"])
    except AcmeError as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.warnings:
        module.warn(warning)
    result = dict(changed=outcome.changed, reason=outcome.reason, name=outcome.name, serial=outcome.serial,
                  not_after=outcome.not_after, paths=outcome.paths)
    if outcome.repaired:
        result["repaired"] = outcome.repaired
    if module._diff:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
