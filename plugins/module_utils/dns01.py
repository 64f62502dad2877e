# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dns-01 responder (responders.py's interface), loaded only when a certificate is due.

present() follows the CNAMEs of _acme-challenge.NAME (a delegation to another zone) and has the
writer (dnswriters.py) add the TXT value there, beside any other. self_check() waits until every
address of every authoritative nameserver of that zone answers with it, asked directly: the CA
asks one of them, and a secondary that lags behind the primary fails the validation (and a
negative answer may then stay in the CA's cache). Leaving the `with` block deletes exactly the
values it wrote, whatever happened.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from types import TracebackType
from typing import NamedTuple

from . import dnswriters
from .dnsconfig import DnsOptions, challenge_name
from .dnslookup import Lookup, Nameserver
from .errors import ChallengeError
from .responders import Challenge

# Between two rounds of questions to the nameservers.
POLL_SECONDS = 2.0


class _Record(NamedTuple):
    identifier: str
    fqdn: str  # where the value was written: the end of the CNAME chain
    value: str


def txt_value(key_authorization: str) -> str:
    """RFC 8555 8.4: base64url(SHA-256(key authorization)), without padding."""
    digest = hashlib.sha256(key_authorization.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class DnsResponder:
    """The TXT records of one order. Leaving the `with` block deletes them, whatever happened."""

    challenge_type = "dns-01"

    def __init__(self, options: DnsOptions, timeout: float = 10, check: bool = True) -> None:
        self.options = options
        self.check = check
        self.lookup = Lookup(options.resolvers, timeout)
        self.writer = dnswriters.for_options(options, self.lookup, timeout)
        self.warnings: list[str] = []
        self._written: list[_Record] = []
        self._waited = False

    def __enter__(self) -> DnsResponder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.clean_up()

    def prepare(self, domains: list[str]) -> None:
        """Write and delete a probe value at each challenge record, before any order: a server that
        refuses the update, a hook that fails or a CNAME loop is found before the CA counts a
        failed validation."""
        probe = txt_value(secrets.token_urlsafe(16))  # shaped like a real value: acme-dns takes no other
        targets: dict[str, str] = {}
        for domain in domains:
            targets.setdefault(self.lookup.follow_cnames(challenge_name(domain)), domain)
        for fqdn, identifier in targets.items():
            self.writer.add(fqdn, probe, identifier)
            self.writer.remove(fqdn, probe, identifier)

    def present(self, challenge: Challenge) -> None:
        fqdn = self.lookup.follow_cnames(challenge_name(challenge.identifier))
        record = _Record(challenge.identifier, fqdn, txt_value(challenge.key_authorization))
        self._written.append(record)  # before: a write that failed half-way is deleted too
        self.writer.add(record.fqdn, record.value, record.identifier)

    def clean_up(self) -> None:
        """Delete every value written; a failure is a warning (the record is named), never an error
        over the one that ended the order."""
        while self._written:
            record = self._written.pop()
            try:
                self.writer.remove(record.fqdn, record.value, record.identifier)
            except ChallengeError as exc:
                self.warnings.append(f"the TXT record {record.fqdn} with {record.value} is left behind: {exc}")

    def self_check(self, challenge: Challenge) -> str | None:
        """Wait until every authoritative nameserver answers the value (after the fixed delay, once
        per order), within propagation_timeout; raise ChallengeError naming those that do not.
        With the certificate's self_check off, only the delay is waited."""
        record = self._record(challenge)
        if not self._waited:
            self._waited = True
            time.sleep(self.options.propagation_delay)
        if not self.check:
            return None
        zone = self.lookup.zone_of(record.fqdn)
        servers = self.lookup.nameservers(zone)
        deadline = time.monotonic() + self.options.propagation_timeout
        while True:
            missing = self._missing(servers, record)
            if not missing:
                return None
            if time.monotonic() + POLL_SECONDS > deadline:
                said = "; ".join(f"{server.host} ({server.address}) {why}" for server, why in missing)
                raise ChallengeError(
                    f"the TXT record {record.fqdn} of {record.identifier} did not reach every nameserver of {zone} "
                    f"within {self.options.propagation_timeout} s: {said}; raise dns.propagation_timeout if its "
                    "secondaries are slow, or check the zone's transfers (NOTIFY, allow-transfer)")
            time.sleep(POLL_SECONDS)

    def advice(self, challenge: Challenge) -> str:
        record = self._record(challenge)
        return (f"the CA looks up the TXT record {challenge_name(record.identifier)}"
                + (f" (a CNAME to {record.fqdn})" if record.fqdn != challenge_name(record.identifier) else "")
                + f" and expects {record.value}; if the nameservers answered it, the CA may have cached an older "
                "answer (up to the zone's SOA minimum TTL): try again after that")

    def _record(self, challenge: Challenge) -> _Record:
        value = txt_value(challenge.key_authorization)
        found = next((r for r in self._written if r.identifier == challenge.identifier and r.value == value), None)
        if found is None:
            raise RuntimeError("DnsResponder: a challenge it did not present")
        return found

    def _missing(self, servers: list[Nameserver], record: _Record) -> list[tuple[Nameserver, str]]:
        missing = []
        for server in servers:
            values = self.lookup.txt_values(server, record.fqdn)
            if isinstance(values, str):
                missing.append((server, values))
            elif record.value not in values:
                missing.append((server, "does not answer it yet"))
        return missing
