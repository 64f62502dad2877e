# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reload-pending marker: CERT_DIR/.reload-pending says that a new certificate was written there
and the web server has not been reloaded since.

Every writer sets it when it swaps a new version in (under the cert_dir's lock, inside the
lineage's). Whoever reloads the server clears it, but only if it still says what it said before
the reload: the CLI after its reload, the role's handler after its own. So a reload that failed,
or a play that failed before its handlers, is retried by the next `zerodowntime-acme renew`, and
`status` and the metrics show it meanwhile.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from . import files, locks, times

MARKER = ".reload-pending"


def mark(cert_dir: str, name: str, now: datetime.datetime) -> None:
    """Note that `name` has a new certificate the server has not loaded yet."""
    with locks.holding(cert_dir):  # the note is the cert_dir's, shared by its lineages
        current = pending(cert_dir) or {"names": [], "since": times.iso(now)}
        names = sorted(set(current["names"]) | {name})
        files.write_json(os.path.join(cert_dir, MARKER), {"names": names, "since": current["since"]})


def pending(cert_dir: str) -> dict[str, Any] | None:
    """What the marker says ({"names": [...], "since": "..."}), or None when no reload is pending.
    A marker that cannot be read still means a reload is pending."""
    path = os.path.join(cert_dir, MARKER)
    if not os.path.lexists(path):
        return None
    data = files.read_json_object(path)
    names = data.get("names")
    since = data.get("since")
    return {"names": [n for n in names if isinstance(n, str)] if isinstance(names, list) else ["(unknown)"],
            "since": since if isinstance(since, str) else "(unknown)"}


def clear(cert_dir: str, seen: dict[str, Any] | None) -> bool:
    """Remove the marker after a successful reload, if it still says what it said before the
    reload (`seen`); a certificate written meanwhile keeps it. True when it was removed."""
    with locks.holding(cert_dir):
        if pending(cert_dir) != seen:
            return False
        try:
            os.unlink(os.path.join(cert_dir, MARKER))
        except FileNotFoundError:
            pass
        except OSError:
            return False  # it stays: the next renew reloads once more, which is harmless
    return True
