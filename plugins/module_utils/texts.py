# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text that came from elsewhere (a member's SSH output, a hook's, a peer's bundle), made safe to
print, to log and to store: one line, no terminal escapes, no lone surrogates, a bounded length.

A newline in a peer's text would forge a line of cron's mail or syslog; an escape sequence would
reach the reader's terminal; a lone surrogate (valid in JSON, not in UTF-8) would crash the print.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included), DEL, C1 controls, and the lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_STORED = 2000


def printable(text: str, limit: int = MAX_STORED) -> str:
    """`text` on one line: every control character and lone surrogate as a \\x, \\u escape, and
    no more than `limit` characters (the end is kept: that is where a program says what failed)."""
    cleaned = _UNPRINTABLE.sub(_escape, text)
    return cleaned if len(cleaned) <= limit else "..." + cleaned[-(limit - 3):]


def last_line(output: str, limit: int = MAX_STORED) -> str:
    """The last non-empty line of a program's output, printable."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return printable(lines[-1].strip(), limit) if lines else ""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
