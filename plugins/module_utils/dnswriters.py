# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three ways the dns-01 responder writes a challenge's TXT record, all provider-neutral:

- rfc2136: a dynamic update (RFC 2136) signed with a TSIG key (RFC 8945), over TCP to the
  primary. It adds our value beside any other and deletes exactly our value again, so an apex and
  its wildcard, which share one _acme-challenge name, both validate in one order.
- hook: a command run as `HOOK present FQDN VALUE` and `HOOK cleanup FQDN VALUE` (FQDN with its
  final dot, as lego's exec provider and acme.sh-style scripts take it); exit 0 is success.
- acme-dns: one POST to /update per value, with the account of the name; acme-dns keeps the two
  latest values of each account, so there is nothing to delete.

Loaded only when a dns-01 certificate is due."""

from __future__ import annotations

import json
from typing import Protocol

from . import commands, texts
from .dnsconfig import DnsOptions
from .dnslookup import Lookup
from .errors import ChallengeError

try:
    import dns.exception
    import dns.name
    import dns.query
    import dns.rcode
    import dns.tsig
    import dns.tsigkeyring
    import dns.update
except ImportError:  # dnslookup.require_dnspython() says so before any writer is made
    pass

TTL = 60
HOOK_TIMEOUT = 300
_RCODE_ADVICE = {
    "REFUSED": "the server refused the update: does its update-policy (or allow-update) grant this key the name?",
    "NOTAUTH": "the server is not authoritative for the zone, or it does not accept this key: is dns.server the "
               "zone's primary, and key_name, key_algorithm and key_secret those of its key?",
    "NOTZONE": "the name is not in the zone the update was sent for",
    "SERVFAIL": "the server failed to apply the update: see its log",
}


class Writer(Protocol):
    def add(self, fqdn: str, value: str, identifier: str) -> None: ...

    def remove(self, fqdn: str, value: str, identifier: str) -> None: ...


def for_options(options: DnsOptions, lookup: Lookup, timeout: float) -> Writer:
    if options.writer == "rfc2136":
        return Rfc2136(options, lookup, timeout)
    if options.writer == "hook":
        return Hook(options.hook)
    return AcmeDns(options, timeout)


class Rfc2136:
    def __init__(self, options: DnsOptions, lookup: Lookup, timeout: float) -> None:
        self.server, self.port = str(options.server), options.port
        self.key_name = str(options.key_name)
        self.keyring = dns.tsigkeyring.from_text({self.key_name: str(options.key_secret)})
        self.algorithm = options.key_algorithm
        self.lookup = lookup
        self.timeout = timeout

    def add(self, fqdn: str, value: str, identifier: str) -> None:
        self._send(fqdn, value, add=True)

    def remove(self, fqdn: str, value: str, identifier: str) -> None:
        self._send(fqdn, value, add=False)

    def _send(self, fqdn: str, value: str, add: bool) -> None:
        zone = self.lookup.zone_of(fqdn)
        update = dns.update.UpdateMessage(zone, keyring=self.keyring, keyname=dns.name.from_text(self.key_name),
                                          keyalgorithm=self.algorithm)
        if add:
            update.add(fqdn + ".", TTL, "TXT", f'"{value}"')
        else:
            update.delete(fqdn + ".", "TXT", f'"{value}"')
        what = f"{'adding' if add else 'deleting'} the TXT record {fqdn} through {self.server} (zone {zone}, key " \
               f"{self.key_name})"
        try:
            response = dns.query.tcp(update, self.server, port=self.port, timeout=self.timeout)
        except dns.tsig.PeerError as exc:
            raise ChallengeError(f"{what}: the server rejected the TSIG key ({type(exc).__name__}): are key_name, "
                                 "key_algorithm and key_secret those of its key?") from exc
        except (dns.exception.DNSException, OSError) as exc:
            raise ChallengeError(f"{what}: {texts.printable(str(exc) or type(exc).__name__, 300)}") from exc
        rcode = dns.rcode.to_text(response.rcode())
        if rcode != "NOERROR":
            raise ChallengeError(f"{what}: {rcode}; {_RCODE_ADVICE.get(rcode, 'see the server log')}")


class Hook:
    def __init__(self, argv: tuple[str, ...]) -> None:
        self.argv = argv

    def add(self, fqdn: str, value: str, identifier: str) -> None:
        self._run("present", fqdn, value)

    def remove(self, fqdn: str, value: str, identifier: str) -> None:
        self._run("cleanup", fqdn, value)

    def _run(self, action: str, fqdn: str, value: str) -> None:
        argv = [*self.argv, action, fqdn + ".", value]
        try:
            finished = commands.run(argv, timeout=HOOK_TIMEOUT, env={})
        except commands.CommandError as exc:
            raise ChallengeError(f"the dns hook ({action} {fqdn}.): {exc}") from exc
        if finished.returncode != 0:
            said = texts.printable((finished.stderr or finished.stdout).strip()[-500:], 500) or "no output"
            raise ChallengeError(f"the dns hook {self.argv[0]} {action} {fqdn}. failed (exit {finished.returncode}): "
                                 f"{said}")


class AcmeDns:
    def __init__(self, options: DnsOptions, timeout: float) -> None:
        self.url = f"{options.acme_dns_url}/update"
        self.accounts = options.acme_dns_accounts
        self.timeout = timeout

    def add(self, fqdn: str, value: str, identifier: str) -> None:
        import requests

        account = self.accounts[identifier[2:] if identifier.startswith("*.") else identifier]
        what = f"updating the acme-dns record of {identifier} at {self.url}"
        try:
            response = requests.post(self.url, timeout=self.timeout, allow_redirects=False,
                                     headers={"X-Api-User": account.username, "X-Api-Key": account.password},
                                     data=json.dumps({"subdomain": account.subdomain, "txt": value}))
        except requests.RequestException as exc:
            raise ChallengeError(f"{what}: {texts.printable(str(exc), 300)}") from exc
        if response.status_code != 200:
            body = texts.printable(response.text[:300], 300)
            advice = " (wrong username or password for this name?)" if response.status_code == 401 else ""
            raise ChallengeError(f"{what}: HTTP {response.status_code}{advice}: {body}")

    def remove(self, fqdn: str, value: str, identifier: str) -> None:
        """acme-dns keeps the two latest values of each account and deletes none: the next update
        replaces this one."""
