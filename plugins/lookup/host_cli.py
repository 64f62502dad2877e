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
  - The modules' sources are never written out on the host; tracebacks still show their source
    lines. Their compiled code is kept in C(/var/cache/zerodowntime-acme) (the environment variable
    C(ZERODOWNTIME_ACME_BYTECODE) names another folder), so that a run with nothing to do does not
    compile the engine again. The script uses that folder only when it and its files belong to the
    user who runs it (or root) and no one else may write them, and writes nothing there under
    C(PYTHONDONTWRITEBYTECODE).
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

import hashlib
import inspect
import marshal
import os
import re
import stat
import sys
import types
from typing import Any, Mapping, Sequence

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.zerodowntime.acme.plugins.module_utils.commands import MAX_OUTPUT, CommandError, Finished

ENGINE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")
# Where the script keeps the engine's compiled modules (ZERODOWNTIME_ACME_BYTECODE overrides it).
BYTECODE_DIR = "/var/cache/zerodowntime-acme"
# Only a plain interpreter path may go into the #! line.
PYTHON = re.compile(r"/[A-Za-z0-9._/+-]+")

# The part of the script that runs: a finder that serves the package zerodowntime_acme from SOURCES,
# compiled through cached_compile; traceback finds the lines through get_source.
RUNNER = '''

class _Engine:
    """Imports the package zerodowntime_acme from SOURCES: a finder that is its own loader. (Not
    importlib.abc's classes: importing that module costs a run with nothing to do 12 ms.)"""

    def _module(self, fullname):
        if fullname == "zerodowntime_acme":
            return "__init__"
        prefix, _, name = fullname.partition(".")
        return name if prefix == "zerodowntime_acme" and name in SOURCES else None

    def find_spec(self, fullname, path=None, target=None):
        name = self._module(fullname)
        if name is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, origin=os.path.join(__file__, name + ".py"),
                                              is_package=name == "__init__")

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.get_code(module.__name__), module.__dict__)  # pylint: disable=exec-used

    def get_source(self, fullname):  # what traceback's lines come from
        name = self._module(fullname)
        if name is None:
            raise ImportError(fullname)
        return SOURCES[name]

    def get_code(self, fullname):
        name = self._module(fullname)
        return cached_compile(name, self.get_source(fullname), os.path.join(__file__, name + ".py"))

    def is_package(self, fullname):
        return fullname == "zerodowntime_acme"

'''
# After the script's functions: the engine's finder goes first, then the CLI runs with its runner.
MAIN = '''

sys.meta_path.insert(0, _Engine())
sys.excepthook = print_traceback
from zerodowntime_acme.commands import MAX_OUTPUT, CommandError, Finished, use  # noqa: E402  # start_program's

use(start_program)
from zerodowntime_acme.cli import main  # noqa: E402

raise SystemExit(main())
'''


def cached_compile(name: str, source: str, filename: str) -> types.CodeType:
    """compile(), through the host's cache of compiled engine modules: compiling them costs a run
    with nothing to do more than all its other work. Root runs what the cache holds, so it is used
    only where this user (or root) owns the folder and the file and nobody else may write them;
    anything else, or any trouble, and the module is compiled as if there were no cache."""
    folder = os.environ.get("ZERODOWNTIME_ACME_BYTECODE") or BYTECODE_DIR
    entry = bytecode_entry(name, filename, source)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return compile(source, filename, "exec", dont_inherit=True)
    try:
        code = _load_code(folder_fd, entry) if _trusted(os.fstat(folder_fd)) else None
        if code is None:
            code = compile(source, filename, "exec", dont_inherit=True)
            if _trusted(os.fstat(folder_fd)) and not sys.dont_write_bytecode:
                _store_code(folder_fd, entry, code)
        return code
    finally:
        os.close(folder_fd)


def bytecode_entry(name: str, filename: str, source: str) -> str:
    """The cache's file for this source, compiled by this interpreter, under this file name."""
    key = hashlib.sha256("\0".join((sys.version, filename, source)).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{name}.{key[:32]}.code"


def _trusted(found: os.stat_result) -> bool:
    return found.st_uid in (0, os.geteuid()) and not found.st_mode & 0o022


def _load_code(folder_fd: int, entry: str) -> types.CodeType | None:
    try:
        file_fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except OSError:
        return None
    with os.fdopen(file_fd, "rb") as handle:
        found = os.fstat(file_fd)
        if not (stat.S_ISREG(found.st_mode) and _trusted(found)):
            return None
        try:
            code = marshal.loads(handle.read())
        except (EOFError, ValueError, TypeError):
            return None
    return code if isinstance(code, types.CodeType) else None


def _store_code(folder_fd: int, entry: str, code: types.CodeType) -> None:
    """Written aside and renamed, so that a reader finds the whole file or none; the module's
    entries for other sources (an older engine) go."""
    temporary = f".{entry}.{os.getpid()}"
    try:
        file_fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder_fd)
        with os.fdopen(file_fd, "wb") as handle:
            handle.write(marshal.dumps(code))
        os.replace(temporary, entry, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        module = entry.split(".", 1)[0] + "."
        for other in os.listdir(folder_fd):
            if other.startswith(module) and other.endswith(".code") and other != entry:
                os.unlink(other, dir_fd=folder_fd)
    except OSError:
        try:
            os.unlink(temporary, dir_fd=folder_fd)
        except OSError:
            pass


def print_traceback(kind: type[BaseException], value: BaseException, trace: types.TracebackType | None) -> None:
    """The script's sys.excepthook. The interpreter's own printer reads source lines from files only;
    traceback's asks the loader. Imported here: a run that goes well has no use for it."""
    import traceback  # pylint: disable=import-outside-toplevel

    traceback.print_exception(kind, value, trace)


def start_program(argv: Sequence[str], timeout: float, stdin: bytes | None, env: Mapping[str, str] | None,
                  keep_fds: Sequence[int] = ()) -> Finished:
    """The host CLI's runner (commands.use); the script carries this function's source. Module code
    starts programs only through run_command, and the CLI, run by cron, has no AnsibleModule.
    The program gets a session of its own, so that a timeout ends what it started too (a deploy
    hook's children), and `env` as its whole environment (None: this process's). Of its output
    only the last MAX_OUTPUT bytes of each stream are kept, however much it prints. Its modules are
    imported here: a run that starts nothing has no use for them."""
    import signal  # pylint: disable=import-outside-toplevel
    import subprocess  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    try:
        process = subprocess.Popen(list(argv), stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                   start_new_session=True, pass_fds=tuple(keep_fds))
    except OSError as exc:
        raise CommandError(str(exc)) from exc
    deadline = time.monotonic() + timeout
    kept = {process.stdout: bytearray(), process.stderr: bytearray()}
    try:
        _exchange(process, stdin or b"", kept, deadline)
        process.wait(max(0.0, deadline - time.monotonic()))
    except (TimeoutError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        raise CommandError(f"no answer within {timeout:g} s") from None
    finally:
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return Finished(process.returncode, kept[process.stdout].decode("utf-8", "replace"),
                    kept[process.stderr].decode("utf-8", "replace"))


def _exchange(process: Any, stdin: bytes, kept: dict[Any, bytearray], deadline: float) -> None:
    """Send `stdin` and read both streams until the program closes them, keeping the last
    MAX_OUTPUT bytes of each; TimeoutError at `deadline`."""
    import selectors  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    left_to_send = memoryview(stdin)
    with selectors.DefaultSelector() as selector:
        for stream in kept:
            selector.register(stream, selectors.EVENT_READ)
        if process.stdin is not None:
            os.set_blocking(process.stdin.fileno(), False)
            selector.register(process.stdin, selectors.EVENT_WRITE)
        while selector.get_map():
            wait = deadline - time.monotonic()
            ready = selector.select(wait) if wait > 0 else []
            if not ready:
                raise TimeoutError()
            for key, _events in ready:
                if key.fileobj is process.stdin:
                    try:
                        left_to_send = left_to_send[os.write(key.fd, left_to_send[:65536]):]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # it stopped reading: what it prints says why
                        left_to_send = left_to_send[:0]
                    if not left_to_send:
                        selector.unregister(process.stdin)
                        process.stdin.close()
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffer = kept[key.fileobj]
                buffer += chunk
                del buffer[:-MAX_OUTPUT]


# The functions the script carries, in this order.
SCRIPT_FUNCTIONS = (cached_compile, bytecode_entry, _trusted, _load_code, _store_code, print_traceback, start_program,
                    _exchange)


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
        "import hashlib",
        "import importlib.machinery",
        "import marshal",
        "import os",
        "import stat",
        "import sys",
        "import types",
        "",
        f"BYTECODE_DIR = {BYTECODE_DIR!r}",
        "SOURCES = {",
    ]
    lines += [f"    {name!r}: {source!r}," for name, source in engine_sources(engine_dir).items()]
    lines.append("}")
    functions = "\n\n".join(inspect.getsource(f) for f in SCRIPT_FUNCTIONS)
    return "\n".join(lines) + RUNNER + "\n" + functions + MAIN


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        if terms:
            raise AnsibleLookupError("host_cli takes no terms, only python=")
        self.set_options(var_options=variables, direct=kwargs)
        return [render(self.get_option("python"))]
