# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACME Renewal Information (RFC 9773): the certificate's ID, and the window the CA suggests,
kept on disk so that repeated runs agree on one random point in it and stay offline until the
CA's Retry-After has passed."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import random
from typing import Any, NamedTuple

from . import files, times

STATE_FILE = "ari.json"
# RFC 9773 4.3.3: without a Retry-After, ask again after about six hours.
DEFAULT_RETRY_AFTER = datetime.timedelta(hours=6)


# A NamedTuple, not a dataclass: every run builds this class, and a NamedTuple costs a tenth as much
# to define (issuance.py says why that counts).
class Window(NamedTuple):
    """The CA's suggested window, the point chosen in it, and when to ask again."""

    start: datetime.datetime
    end: datetime.datetime
    chosen: datetime.datetime
    retry_after: datetime.datetime

    def as_dict(self) -> dict[str, str]:
        return {k: times.iso(v) for k, v in (("start", self.start), ("end", self.end), ("chosen", self.chosen),
                                             ("retry_after", self.retry_after))}


def cert_id(cert_pem: bytes) -> str | None:
    """base64url(AKI keyIdentifier) "." base64url(serial as a DER INTEGER's content octets);
    None for a certificate without an authority key identifier (no CA would know it)."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None
    if not aki:
        return None
    serial = cert.serial_number
    serial_bytes = serial.to_bytes((serial.bit_length() + 8) // 8, "big", signed=True)
    return f"{_b64url(aki)}.{_b64url(serial_bytes)}"


def window(start: datetime.datetime, end: datetime.datetime, retry_after: datetime.timedelta,
           now: datetime.datetime, previous: Window | None = None) -> Window:
    """A Window with a random point in [start, end]; the previous point is kept while the CA's
    window still contains it, so that runs agree."""
    if previous is not None and previous.start == start and previous.end == end:
        chosen = previous.chosen
    else:
        chosen = start + (end - start) * random.random()
    return Window(start, end, chosen, now + retry_after)


def applies(current: Any, directory_url: str) -> bool:
    """Whether ARI speaks for the lineage `current`: a CA-issued certificate from this directory,
    which offered renewal information when it issued it."""
    return bool(current is not None and current.cert is not None and not current.cert.self_signed
                and current.meta.get("ari") and current.meta.get("directory_url") == directory_url)


def load(folder: str, cert_pem: bytes) -> Window | None:
    """The stored window of this very certificate, or None (also for a file that does not make
        sense: it is rebuilt from the CA's answer)."""
    data = files.read_json_object(os.path.join(folder, STATE_FILE))
    try:
        if data.get("cert_sha256") != hashlib.sha256(cert_pem).hexdigest():
            return None
        stored = Window(*(times.parse_iso(data[k]) for k in ("start", "end", "chosen", "retry_after")))
    except (ValueError, KeyError, TypeError):
        return None
    return stored if stored.start < stored.end and stored.start <= stored.chosen <= stored.end else None


def save(folder: str, cert_pem: bytes, state: Window) -> None:
    """Store the window beside the certificate (a cache: written in place, rebuilt when lost)."""
    files.write_json(os.path.join(folder, STATE_FILE),
                     dict(state.as_dict(), cert_sha256=hashlib.sha256(cert_pem).hexdigest()))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
