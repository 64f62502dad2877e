# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS as the dns-01 responder needs it, on dnspython: where a challenge record really lives
(CNAME delegation followed), the zone it belongs to (SOA walk), that zone's authoritative
nameservers with every address (IPv4 and IPv6), and what each of them answers, asked directly,
without any cache in between. Loaded only when a dns-01 certificate is due.

Every lookup goes to `resolvers` when given (split horizon: the zones as the CA sees them),
else to the host's own resolvers."""

from __future__ import annotations

from typing import Any, NamedTuple

from .errors import ChallengeError, DependencyError

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdatatype
    import dns.resolver
except ImportError as exc:
    DNSPYTHON_IMPORT_ERROR: ImportError | None = exc
else:
    DNSPYTHON_IMPORT_ERROR = None

# How many CNAMEs a challenge name may pass through (acme.sh and lego follow a few; a loop ends here).
MAX_CNAMES = 8


class Nameserver(NamedTuple):
    host: str
    address: str


def require_dnspython() -> None:
    if DNSPYTHON_IMPORT_ERROR is not None:
        raise DependencyError(f"the Python library 'dnspython' is missing on this host ({DNSPYTHON_IMPORT_ERROR}); "
                              "dns-01 needs it: install python3-dnspython (or pip install dnspython)")


class Lookup:
    def __init__(self, resolvers: tuple[str, ...], timeout: float) -> None:
        require_dnspython()
        self.resolver = dns.resolver.Resolver(configure=not resolvers)
        if resolvers:
            self.resolver.nameservers = list(resolvers)
        self.resolver.lifetime = timeout
        self.resolver.cache = None
        self.timeout = timeout
        self.said = f"the resolvers {', '.join(resolvers)}" if resolvers else "this host's resolvers"

    def follow_cnames(self, name: str) -> str:
        """The name at the end of `name`'s CNAME chain (itself when it has none)."""
        seen = [name]
        for _hop in range(MAX_CNAMES):
            try:
                answer = self._resolve(name, "CNAME")
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                return name
            name = answer[0].target.to_text(omit_final_dot=True).lower()
            if name in seen:
                raise ChallengeError(f"the CNAMEs from {seen[0]} go round in a loop ({' -> '.join(seen + [name])})")
            seen.append(name)
        raise ChallengeError(f"{seen[0]} passes through more than {MAX_CNAMES} CNAMEs ({' -> '.join(seen)})")

    def zone_of(self, name: str) -> str:
        """The zone that holds `name`: the closest enclosing SOA."""
        try:
            zone = dns.resolver.zone_for_name(name, resolver=self.resolver, lifetime=self.timeout)
        except dns.exception.DNSException as exc:
            raise ChallengeError(f"cannot find the zone of {name} through {self.said}: {_said(exc)}") from exc
        return str(zone.to_text(omit_final_dot=True)).lower()

    def nameservers(self, zone: str) -> list[Nameserver]:
        """Every address of every nameserver of `zone` (its NS records)."""
        try:
            hosts = sorted({r.target.to_text(omit_final_dot=True).lower() for r in self._resolve(zone, "NS")})
        except dns.exception.DNSException as exc:
            raise ChallengeError(f"cannot list the nameservers of {zone} through {self.said}: {_said(exc)}") from exc
        found = []
        for host in hosts:
            for kind in ("AAAA", "A"):
                try:
                    found += [Nameserver(host, r.address) for r in self._resolve(host, kind)]
                except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                    continue
                except dns.exception.DNSException as exc:
                    raise ChallengeError(f"cannot find the address of {host}, a nameserver of {zone}, through "
                                         f"{self.said}: {_said(exc)}") from exc
        if not found:
            raise ChallengeError(f"no nameserver of {zone} has an address ({', '.join(hosts) or 'no NS records'})")
        return found

    def txt_values(self, server: Nameserver, name: str) -> set[str] | str:
        """The TXT values `server` itself answers for `name` (asked directly, no recursion), or
        what went wrong as a short text."""
        query = dns.message.make_query(name, "TXT")
        query.flags &= ~dns.flags.RD
        try:
            response, _tcp = dns.query.udp_with_fallback(query, server.address, timeout=min(self.timeout, 5))
        except (dns.exception.DNSException, OSError) as exc:
            return _said(exc)
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return set()
        if rcode != dns.rcode.NOERROR:
            return f"answers {dns.rcode.to_text(rcode)}"
        if not response.flags & dns.flags.AA:
            return f"is not authoritative for {name}"
        return {b"".join(rdata.strings).decode("ascii", "replace") for rrset in response.answer
                if rrset.rdtype == dns.rdatatype.TXT for rdata in rrset}

    def _resolve(self, name: str, kind: str) -> Any:
        return self.resolver.resolve(name, kind, lifetime=self.timeout, search=False)


def _said(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "..."
