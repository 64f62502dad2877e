#!/usr/bin/python
# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificate
short_description: Obtain and renew an ACME certificate (http-01 webroot or dns-01), in one task
version_added: 0.1.0
description:
  - Makes sure the lineage O(name) under O(cert_dir) holds a valid certificate for O(domains),
    issued by the ACME CA at O(directory_url) (Let's Encrypt by default).
  - When the CA offers ARI (RFC 9773), the renewal time is a random point in the window the CA
    suggests, kept on disk so that runs agree; the window is asked again only when its
    C(Retry-After) has passed, so a run with nothing due usually stays offline. A renewal order
    carries C(replaces), which exempts it from Let's Encrypt's rate limits.
  - Renews only when due. It is due when no certificate exists, when the names or the key type
    changed, when the current certificate was not issued through O(directory_url) (a placeholder,
    for example), when less than a third of its lifetime is left (half when the lifetime is under
    ten days; or O(renew_before_days) before expiry when set), when O(profile) changed, when
    M(zerodowntime.acme.certificate_revoke) revoked it, or when O(force) is set.
  - When nothing is due the module makes no network access at all, so a daily run across a fleet
    costs next to nothing.
  - When due, it does the whole exchange in one call. With http-01 (the default) it writes the
    challenge files under O(webroot), checks them over HTTP itself, lets the CA validate,
    finalizes, and removes the files again in every outcome. With dns-01 (O(challenge)) it writes
    the TXT records through O(dns.writer), waits until every authoritative nameserver serves them,
    lets the CA validate, and deletes exactly its own values again in every outcome.
  - The certificate the CA sends is checked before it is installed, against the key of the request,
    the names ordered, and its own chain (names and signatures). A certificate that does not fit
    fails the task and nothing is installed.
  - The key, certificate, chain and full chain are replaced as one atomic swap, and the previous
    version is kept. A crash at any moment leaves the old pair intact.
  - Wildcard names (V(*.example.org)) need O(challenge=dns-01); IP addresses need http-01.
author:
  - zerodowntime.acme developers (@zerodowntime)
extends_documentation_fragment:
  - zerodowntime.acme.acme
  - zerodowntime.acme.acme.account
  - zerodowntime.acme.key_access
  - zerodowntime.acme.attributes.actiongroup_acme
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports whether the certificate would be renewed, and why, without contacting anyone.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the change of the name set and of the expiry.
options:
  domains:
    description:
      - The DNS names and IP addresses of the certificate. The first one is the primary name.
      - Compared regardless of order and case. Internationalised names are sent as punycode.
      - An IPv4 or IPv6 address (RFC 8738) becomes an C(ip) identifier and an IP SAN; the CA fetches
        C(http://ADDRESS/.well-known/acme-challenge/...) (an IPv6 one in brackets). Without
        O(profile), such a certificate asks for C(shortlived) where the CA offers it, because Let's
        Encrypt issues IP addresses only in that profile; it warns that it did. At Let's Encrypt a
        private, loopback or reserved address fails before any order.
      - A wildcard (V(*.example.org), the whole leftmost label) needs O(challenge=dns-01). Its
        lineage is named after the name below it (V(example.org)), as with certbot.
      - At most 100 names.
    type: list
    elements: str
    required: true
  name:
    description:
      - The lineage's folder name under O(cert_dir).
      - Defaults to the first of O(domains); an address is spelled C(ip-127-0-0-5) or
        C(ip6-2001-db8-0-0-0-0-0-5).
    type: str
  challenge:
    description:
      - How the CA validates the names. V(http-01) serves a file from O(webroot) on port 80.
        V(dns-01) publishes a TXT record through O(dns), for wildcards and for hosts the CA cannot
        reach on port 80.
    type: str
    choices: [http-01, dns-01]
    default: http-01
  dns:
    description:
      - How dns-01 writes and checks the TXT record of C(_acme-challenge.NAME). Required with
        O(challenge=dns-01), refused with http-01.
      - Before writing, the CNAMEs of C(_acme-challenge.NAME) are followed (delegation to another
        zone), and the record is written where the chain ends. Our value is added beside any other and
        only our value is deleted afterwards, so an apex and its wildcard validate in one order.
      - Before the CA is asked, every address (IPv6 and IPv4) of every authoritative nameserver of
        the zone must answer the value, asked directly; after O(dns.propagation_timeout) the task
        fails naming the nameservers still missing it.
      - Needs the C(dnspython) library on the host (Debian's C(python3-dnspython)).
    type: dict
    suboptions:
      writer:
        description:
          - V(rfc2136) sends a dynamic update signed with a TSIG key to O(dns.server).
          - V(hook) runs O(dns.hook) as C(HOOK present FQDN VALUE) and C(HOOK cleanup FQDN VALUE)
            (FQDN with its final dot); exit code 0 is success. Scripts written for lego's exec
            provider follow the same contract.
          - V(acme-dns) posts the value to O(dns.acme_dns_url) with the account of each name;
            acme-dns keeps the latest two values of an account, so nothing is deleted.
        type: str
        required: true
        choices: [rfc2136, hook, acme-dns]
      server:
        description:
          - The IP address of the primary nameserver that takes the updates (rfc2136).
        type: str
      port:
        description:
          - Its port.
        type: int
        default: 53
      key_name:
        description:
          - The name of the TSIG key (rfc2136), as in C(tsig-keygen NAME).
        type: str
      key_algorithm:
        description:
          - The TSIG algorithm.
        type: str
        choices: [hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1]
        default: hmac-sha256
      key_secret:
        description:
          - The TSIG key's secret, base64, as C(tsig-keygen) prints it. Never logged.
        type: str
      hook:
        description:
          - The hook command as a list, its program an absolute path (hook writer).
        type: list
        elements: str
      acme_dns_url:
        description:
          - The https URL of the acme-dns server (acme-dns writer).
        type: str
      acme_dns_accounts:
        description:
          - For each name (V(example.org) also serves V(*.example.org)), its acme-dns account as
            C(/register) answered it, C({username, password, subdomain}). C(_acme-challenge.NAME) must
            be a CNAME to the account's C(fulldomain). Never logged.
        type: dict
      resolvers:
        description:
          - IP addresses of the resolvers that find the zones and their nameservers, for split-horizon
            DNS where this host's own resolvers see other zones than the CA does.
        type: list
        elements: str
      propagation_timeout:
        description:
          - How long to wait, in seconds, for every authoritative nameserver to answer the value.
        type: int
        default: 300
      propagation_delay:
        description:
          - A fixed wait, in seconds, after the records are written and before they are checked, for
            providers whose nameservers lag behind their API.
        type: int
        default: 0
  webroot:
    description:
      - The folder that nginx uses as C(root) for C(/.well-known/acme-challenge/) on port 80, as
        certbot's C(-w). Challenge files go to C(WEBROOT/.well-known/acme-challenge/TOKEN).
      - Required with O(challenge=http-01).
      - The webroot may belong to a site's user. C(.well-known/acme-challenge) in it is created
        (owned by the running user, mode C(0755)) when missing, and refused before any order when
        it is a link or a file, writable by its group or by everyone, or owned by another user than
        root or the running user. Files in it are created and removed without following links.
    type: path
  cert_dir:
    description:
      - Where lineages live. The files are C(CERT_DIR/NAME/privkey.pem) (mode C(0600)),
        C(cert.pem), C(chain.pem) and C(fullchain.pem).
      - C(CERT_DIR/NAME) is a link that is swapped atomically to a new version folder under
        C(CERT_DIR/.versions/NAME/), where the previous version is kept.
    type: path
    default: /etc/zerodowntime-acme/live
  key_type:
    description:
      - The type of the certificate's private key. Changing it renews the certificate.
    type: str
    choices: [ec256, ec384, rsa2048, rsa3072, rsa4096]
    default: ec256
  reuse_key:
    description:
      - Keep the current private key on renewal (when its type still matches), for example when
        the public key is pinned. By default every renewal gets a new key.
    type: bool
    default: false
  force:
    description:
      - Renew now, whatever the renewal decision says.
    type: bool
    default: false
  profile:
    description:
      - The certificate profile to ask the CA for, such as Let's Encrypt's V(classic), V(tlsserver)
        (45 days) or V(shortlived) (about 6 days).
      - A preference. When the CA does not offer it, the order goes out with the CA's default and
        the module warns, unless O(profile_required) is set.
      - Changing it renews the certificate.
    type: str
  profile_required:
    description:
      - Fail, before any order, when the CA does not offer O(profile).
    type: bool
    default: false
  preferred_chain:
    description:
      - When the CA offers other chains besides its default (RFC 8555 C(Link rel="alternate")),
        install the one whose topmost certificate was issued by this name (its common name), for
        example V(ISRG Root X1).
      - When no chain matches, the CA's default chain is installed and the module warns.
      - Takes effect at the next issuance; it does not make the certificate due.
    type: str
  renew_before_days:
    description:
      - Renew this many days before expiry, instead of when a third of the lifetime is left (half
        under ten days).
      - The fraction suits every lifetime. A fixed number of days renews a short-lived certificate
        on every run once it exceeds its lifetime, so prefer leaving this unset.
    type: int
  deploy_hook:
    description:
      - A shell command run on the managed host after a new certificate was written, for example
        C(nginx -t && systemctl reload nginx). In a playbook, a handler is the idiomatic way; the
        hook is what makes an ad-hoc C(ansible -m) renewal complete. The
        P(zerodowntime.acme.certificates#role) role stores it for cron's renewals as well.
      - It gets the environment variables E(RENEWED_LINEAGE) (the lineage folder) and
        E(RENEWED_DOMAINS) (space-separated names), as certbot's deploy hooks do, beside a fixed
        E(PATH), E(HOME) and E(LANG=C.UTF-8), and nothing else of the caller's environment.
      - A hook never runs twice at once. It holds C(CERT_DIR/.hooks.lock) while it runs, even when
        the run that started it was killed.
      - When it fails the task fails with its output, and the new certificate stays in place. The
        next run runs it again, whether or not the certificate is due, until it succeeds
        (C(CERT_DIR/.hooks-done.json) records the version it last ran for).
      - In a play, the task's C(timeout) keyword bounds it; the role's host CLI stops it after 600 s.
    type: str
  reload_services:
    description:
      - The systemd services that use this certificate besides nginx (postfix, dovecot, haproxy),
        reloaded with C(systemctl try-reload-or-restart) after a new certificate was written. A
        service without a reload action is restarted, a stopped one stays stopped.
      - Each is reloaded once per run, before O(deploy_hook). Like the hook, a reload that failed is
        tried again by the next run.
      - Unit names only (letters, digits, colons and C(_ . @ -)); anything else fails before any order.
    type: list
    elements: str
  self_check:
    description:
      - Before asking the CA to validate, fetch each challenge URL over plain HTTP from the
        managed host, from every address of the name (IPv6 first, as Let's Encrypt tries it first).
      - A wrong answer (a 404, or other content) on any address fails at once with the URL, the
        address and what nginx must serve, so no failed validation is spent at the CA.
      - When the name does not resolve or the connection fails from the host itself (NAT hairpin,
        split DNS), the module warns and goes on; so it does when only the IPv6 address is
        unreachable while IPv4 answers right.
      - With O(challenge=dns-01), ask every authoritative nameserver of the record's zone directly
        until all answer the value (see O(dns.propagation_timeout)). V(false) waits only
        O(dns.propagation_delay), for a host that cannot reach its zone's nameservers.
    type: bool
    default: true
notes:
  - Serve the challenge path from every port-80 server of the names, for example with
    C(location ^~ /.well-known/acme-challenge/ { root /var/www/well-known; default_type text/plain; }).
    The C(zerodowntime.acme.nginx) role sets this up.
  - Reload nginx through a handler that runs C(nginx -t) first, and only when this task changed.
seealso:
  - module: zerodowntime.acme.account
  - module: zerodowntime.acme.certificate_info
  - module: zerodowntime.acme.certificate_revoke
  - name: RFC 8555, ACME
    description: The protocol.
    link: https://www.rfc-editor.org/rfc/rfc8555
  - name: Let's Encrypt rate limits
    description: Why the module never orders a certificate that is not due.
    link: https://letsencrypt.org/docs/rate-limits/
"""

EXAMPLES = r"""
- name: Obtain or renew the certificate of www.example.org
  zerodowntime.acme.certificate:
    domains:
      - www.example.org
      - example.org
    webroot: /var/www/well-known
    account_email: hostmaster@example.org
    terms_agreed: true
  notify: Reload nginx

- name: Try things out against Let's Encrypt's staging CA, with an RSA key
  zerodowntime.acme.certificate:
    domains: [staging.example.org]
    webroot: /var/www/well-known
    directory_url: https://acme-staging-v02.api.letsencrypt.org/directory
    key_type: rsa2048
    terms_agreed: true

- name: A mail server's certificate, readable by postfix and dovecot through ssl-cert, and one PEM for haproxy
  zerodowntime.acme.certificate:
    domains: [mail.example.org]
    webroot: /var/www/well-known
    terms_agreed: true
    key_group: ssl-cert
    key_mode: "0640"
    combined: true  # haproxy: crt /etc/zerodowntime-acme/live/mail.example.org/combined.pem
    reload_services: [postfix, dovecot, haproxy]  # after each new certificate, and again until they succeed

- name: A certificate for an internal dashboard reached by its address, from the company's own CA
  zerodowntime.acme.certificate:
    domains: [10.20.0.5]  # the lineage is /etc/zerodowntime-acme/live/ip-10-20-0-5
    webroot: /var/www/well-known
    directory_url: https://ca.internal.example/acme/acme/directory
    terms_agreed: true

- name: A wildcard and its apex over dns-01, written into BIND with a TSIG key
  zerodowntime.acme.certificate:
    domains: ["*.example.org", example.org]  # the lineage is /etc/zerodowntime-acme/live/example.org
    challenge: dns-01
    dns:
      writer: rfc2136
      server: 192.0.2.53  # the zone's primary
      key_name: acme-update
      key_secret: "{{ vault_acme_update_secret }}"
    terms_agreed: true

- name: An internal host that the CA cannot reach, through a provider's CLI
  zerodowntime.acme.certificate:
    domains: [git.internal.example.org]
    challenge: dns-01
    dns:
      writer: hook
      hook: [/usr/local/bin/dns-record]  # run as: dns-record present|cleanup FQDN. VALUE
      propagation_delay: 30  # the provider's nameservers follow its API after a while
    terms_agreed: true

- name: Through acme-dns, with _acme-challenge.example.org a CNAME to the account's fulldomain
  zerodowntime.acme.certificate:
    domains: ["*.example.org", example.org]
    challenge: dns-01
    dns:
      writer: acme-dns
      acme_dns_url: https://auth.acme-dns.example
      acme_dns_accounts:
        example.org: "{{ vault_acme_dns_account }}"  # {username, password, subdomain}
    terms_agreed: true

# Ad hoc, with the reload done by the module itself:
# ansible web1 -b -m zerodowntime.acme.certificate \
#   -a "domains=www.example.org webroot=/var/www/well-known terms_agreed=true
#       deploy_hook='nginx -t && systemctl reload nginx'"
"""

RETURN = r"""
changed:
  description:
    - Whether a new certificate was written, or the key files' access put right (or, in check mode,
      would be).
  returned: always
  type: bool
reason:
  description: One sentence on why the certificate was renewed, or why not.
  returned: always
  type: str
  sample: "not due: 60 days of its 90-day lifetime left; due on 2027-01-28 10:00 UTC, when a third is left"
name:
  description: The lineage's name.
  returned: always
  type: str
  sample: www.example.org
domains:
  description: The names of the certificate now in place (empty when there is none).
  returned: always
  type: list
  elements: str
  sample: [www.example.org, example.org]
not_before:
  description: Start of the current certificate's validity, ISO 8601 UTC.
  returned: when a certificate is in place
  type: str
  sample: "2026-11-29T10:00:00Z"
not_after:
  description: End of the current certificate's validity, ISO 8601 UTC.
  returned: when a certificate is in place
  type: str
  sample: "2027-02-27T10:00:00Z"
serial:
  description: The current certificate's serial number, in lower-case hex.
  returned: when a certificate is in place
  type: str
  sample: 4a3b2c1d
renew_at:
  description: When the current certificate becomes due for renewal, ISO 8601 UTC.
  returned: when a certificate issued through O(directory_url) is in place
  type: str
  sample: "2027-01-28T10:00:00Z"
replaces:
  description:
    - The ARI certificate ID (RFC 9773) of the certificate that the new order replaced, when the
      CA offers ARI. Such renewals are exempt from Let's Encrypt's rate limits.
  returned: when a certificate was renewed through a CA with ARI
  type: str
  sample: aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE
paths:
  description: The files of the lineage.
  returned: always
  type: dict
  contains:
    privkey:
      description: The private key (mode O(key_mode), 0600 by default).
      type: str
      sample: /etc/zerodowntime-acme/live/www.example.org/privkey.pem
    cert:
      description: The certificate alone.
      type: str
      sample: /etc/zerodowntime-acme/live/www.example.org/cert.pem
    chain:
      description: The intermediate certificates, as the CA returned them.
      type: str
      sample: /etc/zerodowntime-acme/live/www.example.org/chain.pem
    fullchain:
      description: Certificate and chain; use it for nginx's C(ssl_certificate).
      type: str
      sample: /etc/zerodowntime-acme/live/www.example.org/fullchain.pem
    combined:
      description: Key, certificate and chain in one file (with the key's access).
      type: str
      returned: when O(combined) is set
      sample: /etc/zerodowntime-acme/live/www.example.org/combined.pem
repaired:
  description:
    - The key files whose owner, group or mode were put back to O(key_owner), O(key_group) and
      O(key_mode), and C(combined.pem) written or removed to agree with O(combined).
  returned: when any
  type: list
  elements: str
  sample: ["version 3 privkey.pem: mode 0644 -> 0640"]
hooks:
  description:
    - What ran after the new certificate (or, in check mode, would run), from O(reload_services)
      and O(deploy_hook), in order. Also returned by a run that retried them after a failure.
  returned: when any ran
  type: list
  elements: str
  sample: ["reload postfix", "reload dovecot", "deploy hook of mail.example.org"]
"""

import dataclasses

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zerodowntime.acme.plugins.module_utils.certargs import ARGUMENT_SPEC, RUN_OPTIONS
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AcmeError
from ansible_collections.zerodowntime.acme.plugins.module_utils.issuance import ensure
from ansible_collections.zerodowntime.acme.plugins.module_utils.outcome import Outcome
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    if params["challenge"] == "dns-01" or params["reload_services"] or params["deploy_hook"]:
        _start_programs_with(module)  # a dns-01 hook, the services' reload, the deploy hook
    try:
        spec = CertificateSpec.from_options({k: params[k] for k in ARGUMENT_SPEC if k not in RUN_OPTIONS})
        outcome = ensure(spec, force=params["force"], check_mode=module.check_mode)
    except AcmeError as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.warnings:
        module.warn(warning)

    result = outcome.returned()
    if module._diff:
        result["diff"] = outcome.diff
    if spec.reload_services or spec.deploy_hook:
        _follow_up(module, dataclasses.replace(spec, name=outcome.name, domains=outcome.domains), outcome, result)
    module.exit_json(**result)


def _follow_up(module: AnsibleModule, spec: CertificateSpec, outcome: Outcome, result: dict) -> None:
    """reload_services, then deploy_hook: after a new certificate, or again after they failed."""
    # Imported here: a certificate without them, the common no-op, does not pay for compiling them.
    from ansible_collections.zerodowntime.acme.plugins.module_utils import commands, hooks

    try:
        steps, warnings = hooks.follow_up(spec, outcome.changed, dry_run=module.check_mode, run=commands.run)
    except AcmeError as exc:
        module.fail_json(msg=str(exc), **result)
    for warning in warnings:
        module.warn(warning)
    if not steps:
        return
    result.update(changed=True, hooks=[step.what for step in steps])
    failed = [step for step in steps if step.error]
    if failed:
        first = failed[0].finished
        module.fail_json(
            msg=f"{'; '.join(f'{step.what} failed: {step.error}' for step in failed)}; the new certificate is in "
                f"place at {outcome.paths['fullchain']}, and the next run tries again",
            **(dict(rc=first.returncode, stdout=first.stdout, stderr=first.stderr) if first else {}), **result)


def _start_programs_with(module: AnsibleModule) -> None:
    """The engine starts programs through commands.run(); in a module, through run_command."""
    from ansible_collections.zerodowntime.acme.plugins.module_utils import commands

    commands.use(commands.through_run_command(module.run_command))


if __name__ == "__main__":
    main()
