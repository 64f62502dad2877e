# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the host CLI starts a program: nginx's check and reload, ssh to a pool member.

Modules start programs with AnsibleModule.run_command, and ansible-test keeps module code from
starting them any other way. The host CLI runs from cron, where there is no AnsibleModule: its
script (plugins/lookup/host_cli.py) hands the engine a runner with use() before it starts, and
the engine asks for programs only through run(). No shell, output captured (its last
MAX_OUTPUT bytes), a timeout always (the runner ends the program's whole process group, so a
hook's children go too).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

# What a program keeps of its output: the end, where it says what failed. A peer's SSH session or a
# hook may print without end; the CLI's memory and its state files must not grow with it.
MAX_OUTPUT = 64 * 1024
# The environment of the programs that follow a new certificate (the server's check and reload,
# services, hooks): fixed, never inherited. `receive` runs under SSH, where the key holder sets
# SSH_ORIGINAL_COMMAND and may pass LC_* and LANG.
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class CommandError(Exception):
    """The program could not be started, or ran past its timeout (the message says which)."""


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


# argv, timeout in seconds, stdin, the whole environment (None: the process's own), descriptors the
# program inherits -> Finished (at most MAX_OUTPUT of each stream), or CommandError.
Runner = Callable[[Sequence[str], float, Optional[bytes], Optional[Mapping[str, str]], Sequence[int]], Finished]
_runner: Runner | None = None


def use(runner: Runner) -> None:
    """Called once by the host CLI's script, before the CLI runs."""
    global _runner  # pylint: disable=global-statement  # set once, by the process's entry point
    _runner = runner


def run(argv: Sequence[str], *, timeout: float, stdin: bytes | None = None,
        env: Mapping[str, str] | None = None, keep_fds: Sequence[int] = ()) -> Finished:
    """Run `argv`. With `env`, the program gets those variables on top of fixed_environment() and
    nothing of this process's own; without, this process's environment (ssh to a member)."""
    if _runner is None:
        raise CommandError(f"cannot run {argv[0]}: this process has no runner (the host CLI's script sets one)")
    return _runner(list(argv), timeout, stdin, None if env is None else dict(fixed_environment(), **env), tuple(keep_fds))


def fixed_environment() -> dict[str, str]:
    """PATH, HOME (the running user's, from the password database) and a UTF-8 locale."""
    import pwd

    try:
        home = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        home = "/"
    return {"PATH": PATH, "HOME": home, "LANG": "C.UTF-8"}


def through_run_command(run_command: Callable[..., tuple[int, str, str]]) -> Runner:
    """The runner of a module: AnsibleModule.run_command (which ansible-test requires), bounded by
    coreutils' timeout as the host CLI's runner bounds its programs."""
    def run_one(argv: Sequence[str], timeout: float, stdin: bytes | None, env: Mapping[str, str] | None,
                keep_fds: Sequence[int]) -> Finished:
        command = ["/usr/bin/timeout", "-k", "5", str(max(1, int(timeout))), *argv]
        if env is not None:  # the whole environment: nothing of Ansible's (env -i)
            command = ["/usr/bin/env", "-i", *(f"{key}={value}" for key, value in env.items()), *command]
        rc, out, err = run_command(command, data=stdin.decode() if stdin else None, binary_data=True,
                                   pass_fds=tuple(keep_fds) or None)
        return Finished(rc, out[-MAX_OUTPUT:], err[-MAX_OUTPUT:])

    return run_one
