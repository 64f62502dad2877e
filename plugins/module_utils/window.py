# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CA's renewal window (ARI, RFC 9773) for a lineage's certificate: asked for and kept beside it
(ari.py keeps it). Used by issuance (a stored window past its Retry-After), by ordering (right after
a new certificate) and by certificate_info's check_ari. Loaded only when the CA is asked.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from . import ari, lineage, locks
from .connection import CAConnection

if TYPE_CHECKING:
    from . import client


def refresh(ca: CAConnection, cert_dir: str, name: str, now: datetime.datetime) -> ari.Window | None:
    """Ask the CA for the current certificate's renewal window and store it. None when there is no
    certificate or the CA offers no ARI."""
    current = lineage.read(cert_dir, name)
    if current is None or current.cert is None:
        return None
    cert_pem, folder = current.pem, lineage.version_folder(cert_dir, name)
    with ca.session(signed=False) as session:
        found = ask(session, cert_pem, now, previous=ari.load(folder, cert_pem))
    if found is not None:
        with locks.holding(cert_dir, name):
            ari.save(folder, cert_pem, found)
    return found


def ask(session: "client.Session", cert_pem: bytes, now: datetime.datetime,
        previous: ari.Window | None = None) -> ari.Window | None:
    """The CA's renewal window for `cert_pem`, with a point chosen in it; None when the CA offers
    no ARI or the certificate has no ID for it. Raises CAError when the CA cannot answer."""
    cert_id = ari.cert_id(cert_pem)
    if not session.has_ari() or cert_id is None:
        return None
    start, end, retry_after = session.renewal_info(cert_id)
    return ari.window(start, end, retry_after, now, previous)
