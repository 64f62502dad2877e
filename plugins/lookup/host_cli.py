# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host CLI as one self-contained script: the engine's modules travel inside it."""

from __future__ import annotations

DOCUMENTATION = r"""
name: host_cli
short_description: The host CLI, C(zerodowntime-acme), as one self-contained Python script
version_added: 0.1.0
author:
  - zerodowntime.acme developers (@zerodowntime)
description:
  - Returns the text of the host CLI that cron runs without Ansible. It carries the source of every
    engine module of this collection (the very files the modules use) and imports them from
    itself, so that a role installs the engine with one file, in one transfer per host, and the
    file changes only when the engine does.
  - The modules are never written out on the host; tracebacks still show their source lines.
options:
  python:
    description: The interpreter of the script's C(#!) line.
    type: str
    default: /usr/bin/python3
"""

EXAMPLES = r"""
- name: Install the host CLI
  ansible.builtin.copy:
    dest: /usr/local/sbin/zerodowntime-acme
    content: "{{ lookup('zerodowntime.acme.host_cli', python='/usr/bin/python3') }}"
    mode: "0755"
"""

RETURN = r"""
_raw:
  description: One element, the script's text.
  type: list
  elements: str
"""

import inspect
import os
import re
import signal
import subprocess
from typing import Any, Mapping, Sequence

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.zerodowntime.acme.plugins.module_utils.commands import CommandError, Finished

ENGINE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")
# Only a plain interpreter path may go into the #! line.
PYTHON = re.compile(r"/[A-Za-z0-9._/+-]+")

# The part of the script that runs: a finder that serves the package zerodowntime_acme from SOURCES.
# InspectLoader compiles get_source's text; traceback finds the lines through get_source too.
RUNNER = '''

class _Engine(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    """Imports the package zerodowntime_acme from SOURCES."""

    def _module(self, fullname):
        if fullname == "zerodowntime_acme":
            return "__init__"
        prefix, _, name = fullname.partition(".")
        return name if prefix == "zerodowntime_acme" and name in SOURCES else None

    def find_spec(self, fullname, path=None, target=None):
        name = self._module(fullname)
        if name is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=os.path.join(__file__, name + ".py"),
                                               is_package=name == "__init__")

    def get_source(self, fullname):
        name = self._module(fullname)
        if name is None:
            raise ImportError(fullname)
        return SOURCES[name]

    def get_code(self, fullname):
        name = self._module(fullname)
        return compile(self.get_source(fullname), os.path.join(__file__, name + ".py"), "exec", dont_inherit=True)

    def is_package(self, fullname):
        return fullname == "zerodowntime_acme"


sys.meta_path.insert(0, _Engine())
# The interpreter's own traceback printer reads source lines from files only; this one asks the loader.
sys.excepthook = traceback.print_exception
from zerodowntime_acme.commands import CommandError, Finished, use  # noqa: E402
'''
# After start_program's source: the engine gets its runner, then the CLI runs.
MAIN = '''

use(start_program)
from zerodowntime_acme.cli import main  # noqa: E402

raise SystemExit(main())
'''


def start_program(argv: Sequence[str], timeout: float, stdin: bytes | None,
                  env: Mapping[str, str] | None) -> Finished:
    """The host CLI's runner (commands.use); the script carries this function's source. Module code
    starts programs only through run_command, and the CLI, run by cron, has no AnsibleModule.
    The program gets a session of its own, so that a timeout ends what it started too (a deploy
    hook's children)."""
    try:
        process = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=dict(os.environ, **env) if env else None, start_new_session=True)
    except OSError as exc:
        raise CommandError(str(exc)) from exc
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()
        raise CommandError(f"no answer within {timeout:g} s") from exc
    return Finished(process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))


def engine_sources(engine_dir: str = ENGINE_DIR) -> dict[str, str]:
    """Every module of the engine by name, in a stable order."""
    sources = {}
    for entry in sorted(os.listdir(engine_dir)):
        if entry.endswith(".py"):
            with open(os.path.join(engine_dir, entry), encoding="utf-8") as handle:
                sources[entry[:-3]] = handle.read()
    if "cli" not in sources:
        raise AnsibleLookupError(f"the engine's cli.py is missing from {engine_dir}")
    return sources


def render(python: str, engine_dir: str = ENGINE_DIR) -> str:
    if not isinstance(python, str) or not PYTHON.fullmatch(python):
        raise AnsibleLookupError(f"python must be an absolute path to an interpreter, not {python!r}")
    lines = [
        f"#!{python}",
        "# Managed by Ansible (zerodowntime.acme): local changes are overwritten.",
        "# The host CLI of zerodowntime.acme. It carries the engine's modules, the very files the",
        "# collection's modules run, and imports them from SOURCES below: one file to install.",
        "from __future__ import annotations",
        "",
        "import importlib.abc",
        "import importlib.util",
        "import os",
        "import signal",
        "import subprocess",
        "import sys",
        "import traceback",
        "",
        "SOURCES = {",
    ]
    lines += [f"    {name!r}: {source!r}," for name, source in engine_sources(engine_dir).items()]
    lines.append("}")
    return "\n".join(lines) + RUNNER + "\n\n" + inspect.getsource(start_program) + MAIN


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        if terms:
            raise AnsibleLookupError("host_cli takes no terms, only python=")
        self.set_options(var_options=variables, direct=kwargs)
        return [render(self.get_option("python"))]
