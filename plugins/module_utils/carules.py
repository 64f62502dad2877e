# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What CAs ask of an order beyond RFC 8555, in one place: Let's Encrypt's rules for IP
addresses, profiles (draft-aaron-acme-profiles), when `replaces` (RFC 9773) may be dropped, and
how the CAs this collection is tested against report a failed challenge. A new CA rule is one edit
here; the client (protocol) and ordering (use case) only ask.

Plain data in and out: no `acme`, no network, so every rule is tested offline."""

from __future__ import annotations

import urllib.parse

from . import addresses
from .errors import ConfigError

LETSENCRYPT_HOSTS = ("acme-v02.api.letsencrypt.org", "acme-staging-v02.api.letsencrypt.org")
# The one profile in which Let's Encrypt issues for IP addresses.
IP_PROFILE = "shortlived"
# The problems after which an order that carried `replaces` is not sent again without it: another
# order would not help (rate limits, a broken nonce, no account).
_KEEP_REFUSAL = ("rateLimited", "badNonce", "accountDoesNotExist")


def has_addresses(domains: list[str]) -> bool:
    return any(addresses.ip(domain) for domain in domains)


def check_addresses(domains: list[str], directory_url: str, profile: str | None) -> None:
    """Let's Encrypt issues for public IP addresses only, and only in its shortlived profile;
    other CAs (an internal one, Pebble) may issue for any."""
    found = [(domain, address) for domain in domains if (address := addresses.ip(domain)) is not None]
    if not found or urllib.parse.urlsplit(directory_url).hostname not in LETSENCRYPT_HOSTS:
        return
    if profile not in (None, IP_PROFILE):
        raise ConfigError(f"Let's Encrypt issues IP addresses ({found[0][0]}) only in the '{IP_PROFILE}' "
                          f"profile, not in '{profile}': set profile to {IP_PROFILE}, or leave it unset")
    for domain, address in found:
        if not address.is_global:
            raise ConfigError(f"{domain} is a private, loopback or reserved address, and Let's Encrypt issues only for "
                              "public IP addresses; use a DNS name, or a CA of your own for internal addresses")


def choose_profile(offered: dict[str, str], wanted: str | None, required: bool,
                   directory_url: str, has_addresses: bool = False) -> tuple[str | None, str | None]:
    """(profile to request, warning). A profile is a preference: when the CA does not offer it,
    order without one (the CA's default) and warn, unless `required`. A certificate that
    `has_addresses` and no profile asks for `shortlived` where the CA offers it: Let's Encrypt
    issues IP addresses in that profile only."""
    if not wanted and has_addresses and IP_PROFILE in offered:
        return IP_PROFILE, (f"a certificate for an IP address without a profile: asked for '{IP_PROFILE}', which "
                            "Let's Encrypt requires for IP addresses; set profile to choose another")
    if not wanted or wanted in offered:
        return wanted or None, None
    offers = ", ".join(sorted(offered)) or "none"
    if required:
        raise ConfigError(f"the CA at {directory_url} does not offer the profile '{wanted}' (it offers: {offers}); "
                          "pick one of those, or set profile_required=false to accept the CA's default")
    return None, f"the CA does not offer the profile '{wanted}' (it offers: {offers}); ordered with its default"


def refused_for_addresses(profile: str | None) -> str:
    """What to add to a refused order of a certificate with IP addresses."""
    asked = f"the profile '{profile}'" if profile else "its default profile"
    return f"the CA may not issue for IP addresses in {asked}: set profile to one that does (Let's Encrypt: {IP_PROFILE})"


def order_again_without_replaces(problem: str | None, conflict: bool) -> bool:
    """Whether an order refused while it carried `replaces` goes out again without it, given the
    refusal's problem code (None: not a problem document) or a 409 `conflict`. `replaces` is a
    hint that must never block a renewal: alreadyReplaced (RFC 9773 5; the `acme` library turns
    every 409 into an exception without the problem document), unauthorized (Let's Encrypt's answer
    when the account changed: a restored host, a copied lineage), or any CA-side trouble with the
    certificate ID (Pebble 2.10, for one, cannot find a serial whose DER form starts with a zero
    byte) is retried once without it."""
    if conflict:
        return True
    return problem is not None and problem not in _KEEP_REFUSAL


def challenge_failed(authorization: str, challenge: str | None, has_error: bool) -> bool:
    """Whether a polled authorization's challenge has failed for good, from the authorization's
    status, the challenge's and whether the challenge carries an error. Invalid is final at once,
    and so is an error on a challenge back to pending: step-ca and Caddy leave it so, and validate
    again only when asked again. An error while processing is the CA retrying (RFC 8555 8.2): that
    is waited for."""
    if authorization not in ("pending", "processing"):
        return True
    return challenge == "invalid" or (challenge == "pending" and has_error)
