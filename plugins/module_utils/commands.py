# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the host CLI starts a program: nginx's check and reload, ssh to a pool member.

Modules start programs with AnsibleModule.run_command, and ansible-test keeps module code from
starting them any other way. The host CLI runs from cron, where there is no AnsibleModule: its
script (plugins/lookup/host_cli.py) hands the engine a runner with use() before it starts, and
the engine asks for programs only through run(). No shell, output captured, a timeout always
(the runner ends the program's whole process group, so a hook's children go too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence


class CommandError(Exception):
    """The program could not be started, or ran past its timeout (the message says which)."""


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


# argv, timeout in seconds, stdin, variables added to the environment -> Finished, or CommandError.
Runner = Callable[[Sequence[str], float, Optional[bytes], Optional[Mapping[str, str]]], Finished]
_runner: Runner | None = None


def use(runner: Runner) -> None:
    """Called once by the host CLI's script, before the CLI runs."""
    global _runner  # pylint: disable=global-statement  # set once, by the process's entry point
    _runner = runner


def run(argv: Sequence[str], *, timeout: float, stdin: bytes | None = None,
        env: Mapping[str, str] | None = None) -> Finished:
    if _runner is None:
        raise CommandError(f"cannot run {argv[0]}: this process has no runner (the host CLI's script sets one)")
    return _runner(list(argv), timeout, stdin, dict(env) if env else None)
