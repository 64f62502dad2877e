#!/usr/bin/python
# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificates
short_description: Obtain and renew all the ACME certificates of a host in one task
version_added: 0.2.0
description:
  - Does for each element of O(certificates) what M(zerodowntime.acme.certificate) does for one, in
    one process. Each is checked before anything is ordered, those with nothing due are settled
    without any network access, and the due ones are ordered up to O(jobs) at once over one
    session per CA and account key.
  - A host with many certificates pays one module start, one import of the C(acme) library and one
    connection per CA, where a loop over M(zerodowntime.acme.certificate) pays them per certificate.
  - One certificate's failure stops no other. The task fails when any failed, after all were tried,
    and RV(certificates) reports each, failed or not.
author:
  - zerodowntime.acme developers (@zerodowntime)
options:
  certificates:
    description:
      - The certificates, each a dictionary of M(zerodowntime.acme.certificate)'s options other
        than the CA connection's (O(directory_url), O(ca_bundle), O(validate_certs),
        O(account_key), O(timeout)), which are given once, here.
      - Each takes that module's options with the same defaults, and is checked as that module
        checks them (names, wildcards, webroot, dns-01 options) before anything is ordered; a
        mistake in any element fails the task, naming the element, and orders nothing.
      - C(reload_services) and C(deploy_hook) are not taken here; the roles run them through
        C(zerodowntime-acme reload), and a playbook can use M(zerodowntime.acme.certificate).
    type: list
    elements: dict
    required: true
    suboptions:
      domains:
        description: As O(zerodowntime.acme.certificate#module:domains).
        type: list
        elements: str
        required: true
      name:
        description: As O(zerodowntime.acme.certificate#module:name).
        type: str
      challenge:
        description: As O(zerodowntime.acme.certificate#module:challenge).
        type: str
        choices:
          - http-01
          - dns-01
        default: http-01
      webroot:
        description: As O(zerodowntime.acme.certificate#module:webroot).
        type: path
      dns:
        description: As O(zerodowntime.acme.certificate#module:dns).
        type: dict
        suboptions:
          writer:
            description: As O(zerodowntime.acme.certificate#module:dns.writer).
            type: str
            choices:
              - rfc2136
              - hook
              - acme-dns
            required: true
          server:
            description: As O(zerodowntime.acme.certificate#module:dns.server).
            type: str
          port:
            description: As O(zerodowntime.acme.certificate#module:dns.port).
            type: int
            default: 53
          key_name:
            description: As O(zerodowntime.acme.certificate#module:dns.key_name).
            type: str
          key_algorithm:
            description: As O(zerodowntime.acme.certificate#module:dns.key_algorithm).
            type: str
            choices:
              - hmac-sha256
              - hmac-sha384
              - hmac-sha512
              - hmac-sha224
              - hmac-sha1
            default: hmac-sha256
          key_secret:
            description: As O(zerodowntime.acme.certificate#module:dns.key_secret).
            type: str
          hook:
            description: As O(zerodowntime.acme.certificate#module:dns.hook).
            type: list
            elements: str
          acme_dns_url:
            description: As O(zerodowntime.acme.certificate#module:dns.acme_dns_url).
            type: str
          acme_dns_accounts:
            description: As O(zerodowntime.acme.certificate#module:dns.acme_dns_accounts).
            type: dict
          resolvers:
            description: As O(zerodowntime.acme.certificate#module:dns.resolvers).
            type: list
            elements: str
          propagation_timeout:
            description: As O(zerodowntime.acme.certificate#module:dns.propagation_timeout).
            type: int
            default: 300
          propagation_delay:
            description: As O(zerodowntime.acme.certificate#module:dns.propagation_delay).
            type: int
            default: 0
      cert_dir:
        description: As O(zerodowntime.acme.certificate#module:cert_dir).
        type: path
        default: /etc/zerodowntime-acme/live
      account_email:
        description: As O(zerodowntime.acme.certificate#module:account_email).
        type: str
      terms_agreed:
        description: As O(zerodowntime.acme.certificate#module:terms_agreed).
        type: bool
        default: false
      key_type:
        description: As O(zerodowntime.acme.certificate#module:key_type).
        type: str
        choices:
          - ec256
          - ec384
          - rsa2048
          - rsa3072
          - rsa4096
        default: ec256
      reuse_key:
        description: As O(zerodowntime.acme.certificate#module:reuse_key).
        type: bool
        default: false
      force:
        description: As O(zerodowntime.acme.certificate#module:force).
        type: bool
        default: false
      self_check:
        description: As O(zerodowntime.acme.certificate#module:self_check).
        type: bool
        default: true
      renew_before_days:
        description: As O(zerodowntime.acme.certificate#module:renew_before_days).
        type: int
      profile:
        description: As O(zerodowntime.acme.certificate#module:profile).
        type: str
      profile_required:
        description: As O(zerodowntime.acme.certificate#module:profile_required).
        type: bool
        default: false
      preferred_chain:
        description: As O(zerodowntime.acme.certificate#module:preferred_chain).
        type: str
      key_owner:
        description: As O(zerodowntime.acme.certificate#module:key_owner).
        type: str
      key_group:
        description: As O(zerodowntime.acme.certificate#module:key_group).
        type: str
      key_mode:
        description: As O(zerodowntime.acme.certificate#module:key_mode).
        type: str
        default: '0600'
      combined:
        description: As O(zerodowntime.acme.certificate#module:combined).
        type: bool
        default: false
  jobs:
    description: How many certificates are ordered at once, from 1 to 32.
    type: int
    default: 4
extends_documentation_fragment:
  - zerodowntime.acme.acme
  - zerodowntime.acme.attributes.actiongroup_acme
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Decides each certificate as a real run would, and orders and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - The names of the elements (O(certificates[].name), or their first domain) must differ.
seealso:
  - module: zerodowntime.acme.certificate
"""

EXAMPLES = r"""
- name: Obtain or renew every certificate of this host
  zerodowntime.acme.certificates:
    directory_url: https://acme-v02.api.letsencrypt.org/directory
    certificates:
      - domains: [www.example.org, example.org]
        webroot: /var/www/well-known
        terms_agreed: true
      - domains: [shop.example.org]
        webroot: /var/www/well-known
        key_type: rsa2048
        terms_agreed: true
  register: issued
  notify: Reload nginx
"""

RETURN = r"""
certificates:
  description:
    - One entry per element of O(certificates), in their order, with the keys
      M(zerodowntime.acme.certificate) returns (RV(zerodowntime.acme.certificate#module:changed),
      C(reason), C(name), C(domains), C(paths), C(not_before), C(not_after), C(serial),
      C(renew_at), C(replaces), C(repaired)), or C(failed) and C(msg) for one that failed.
  returned: always
  type: list
  elements: dict
  sample:
    - {changed: true, reason: "no certificate yet", name: www.example.org, renew_at: "2027-01-28T10:00:00Z"}
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zerodowntime.acme.plugins.module_utils import batch, connection
from ansible_collections.zerodowntime.acme.plugins.module_utils.certargs import CERTIFICATE_SPEC, RUN_OPTIONS
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AcmeError
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec, validated

# The services and the deploy hook follow a play's reload (the roles' handler runs them), or one
# certificate task; not a list's.
NOT_HERE = ("reload_services", "deploy_hook")
ARGUMENT_SPEC = dict(
    connection.ARGUMENT_SPEC,
    certificates=dict(type="list", elements="dict", required=True,
                      options={key: value for key, value in CERTIFICATE_SPEC.items() if key not in NOT_HERE}),
    jobs=dict(type="int", default=batch.DEFAULT_JOBS),
)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    if not 1 <= params["jobs"] <= batch.MAX_JOBS:
        module.fail_json(msg=f"jobs must be from 1 to {batch.MAX_JOBS}, not {params['jobs']}")
    items = _checked(module, params)
    if any(spec.challenge == "dns-01" for spec, _force in items):  # a dns-01 hook writer starts programs
        from ansible_collections.zerodowntime.acme.plugins.module_utils import commands

        commands.use(commands.through_run_command(module.run_command))
    results = batch.ensure_all(items, jobs=params["jobs"], check_mode=module.check_mode)
    reports = [_report(spec, result) for (spec, _force), result in zip(items, results)]
    failed = [report for report in reports if report.get("failed")]
    changed = any(report.get("changed") for report in reports)
    for result in results:
        for warning in getattr(result, "warnings", ()):
            module.warn(warning)
    if failed:
        module.fail_json(msg=f"{len(failed)} of {len(reports)} certificates failed: "
                             + "; ".join(f"{report['name']}: {report['msg']}" for report in failed),
                         changed=changed, certificates=reports)
    module.exit_json(changed=changed, certificates=reports)


def _checked(module: AnsibleModule, params: dict[str, Any]) -> list[tuple[CertificateSpec, bool]]:
    """Each element checked as the certificate module checks its options, all before any order."""
    ca = {key: params[key] for key in connection.ARGUMENT_SPEC}
    items, errors, names = [], [], set()
    for index, options in enumerate(params["certificates"]):
        try:
            spec = validated(CertificateSpec.from_options(
                dict(ca, **{key: value for key, value in options.items() if key not in RUN_OPTIONS})))
        except AcmeError as exc:
            errors.append(f"certificates[{index}]: {exc}")
            continue
        if spec.name in names:
            errors.append(f"certificates[{index}]: the name {spec.name} is taken by an earlier element")
        names.add(spec.name)
        items.append((spec, bool(options["force"])))
    if errors:
        module.fail_json(msg="; ".join(errors))
    return items


def _report(spec: CertificateSpec, result: Any) -> dict[str, Any]:
    if isinstance(result, Exception):
        why = str(result) if isinstance(result, AcmeError) else f"unexpected {type(result).__name__}: {result}"
        return dict(failed=True, changed=False, name=str(spec.name), msg=why)
    return result.returned()


if __name__ == "__main__":
    main()
