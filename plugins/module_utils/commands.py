# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where the host CLI starts a program: nginx's check and reload, ssh to a pool member.

Modules run commands through AnsibleModule.run_command. The host CLI runs from cron, where there is
no AnsibleModule, so it uses subprocess here: no shell, output captured, a timeout always.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Sequence


class CommandError(Exception):
    """The program could not be started, or ran past its timeout (the message says which)."""


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


def run(argv: Sequence[str], *, timeout: float, stdin: bytes | None = None) -> Finished:
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CommandError(f"no answer within {timeout:g} s") from exc
    except OSError as exc:
        raise CommandError(str(exc)) from exc
    return Finished(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))
