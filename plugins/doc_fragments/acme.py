# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by every module that talks to an ACME server."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  directory_url:
    description:
      - The ACME directory URL of the CA.
      - The default is Let's Encrypt's production directory. Use
        V(https://acme-staging-v02.api.letsencrypt.org/directory) while you try things out.
      - Must be an C(https://) URL, as RFC 8555 requires. Redirects from https to plain http are
        refused.
    type: str
    default: https://acme-v02.api.letsencrypt.org/directory
  ca_bundle:
    description:
      - A PEM file of extra CA certificates to trust for the ACME server's HTTPS, in addition to
        the usual ones. For test and private CAs such as Pebble.
      - The root that a new certificate's chain leads to is looked up in it too (and in the system's
        trust store), and recorded beside the certificate, because a pool's members accept only chains
        that lead to the roots their issuer recorded. Put a private CA's root here.
      - A path on the managed host.
    type: path
  validate_certs:
    description:
      - Verify the ACME server's TLS certificate. Only turn this off for throw-away tests.
    type: bool
    default: true
  account_key:
    description:
      - The account's private key (PEM) on the managed host. It is created with mode C(0600) when
        it does not exist.
      - The default is one key per ACME server,
        C(/etc/zerodowntime-acme/accounts/HOST.pem), or C(HOST_PORT.pem) when the directory URL
        names a port.
    type: path
  timeout:
    description:
      - Overall time in seconds for the whole exchange with the CA (each request, the waits its
        C(Retry-After) hints ask for, validation and issuance), from 1 to 3600. Each single
        request also gives up after 30 seconds.
    type: int
    default: 300
notes:
  - A C(429) or C(503) answer with a short C(Retry-After) (up to a minute) is waited out and the
    request sent again; a longer one fails the task at once, saying when the CA wants to hear again.
  - C(500), C(502) and C(504) answers and broken connections are retried up to three times with a
    growing pause, within O(timeout). A C(Retry-After) is honoured between one second and one day.
  - Answers larger than 1 MiB are refused.
  - While the CA validates a challenge or issues the certificate, the module asks again at once,
    then after 0.1 s, doubling up to 2 s between polls, or as long as the CA's C(Retry-After) says,
    at most 20 times per authorization or order. A fast internal CA (step-ca, Caddy) answers
    within the first few tenths of a second; Let's Encrypt's validation takes seconds, so there
    the polls are few.
requirements:
  - Python 3.11 or newer on the managed host (the oldest tested; Debian 12's).
  - cryptography (python3-cryptography).
  - acme (certbot's ACME library, python3-acme), needed only when a certificate is due.
"""

    # The options that create an account (certificate, account).
    ACCOUNT = r"""
options:
  account_email:
    description:
      - Contact e-mail address given to the CA when the account is created.
    type: str
  terms_agreed:
    description:
      - Whether you agree to the CA's terms of service. It must be V(true) to create an account;
        an existing account is used without it.
    type: bool
    default: false
"""
