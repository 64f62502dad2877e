# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What follows a new certificate besides the web server's reload: the reload of the other services
that use it (reload_services) and its deploy hook. The host CLI runs it after the web server's
reload (renew, receive, reload); the certificate module runs it for an ad-hoc renewal (follow_up).

It is decided from what is on disk, not from events: CERT_DIR/.hooks-done.json holds, for each
certificate, the version whose services and hook have run. A certificate whose live version is
another one is due; a placeholder never is (the real certificate follows). So a reload that failed,
or a play that stopped before its handlers, runs again at the next run, and a run reloads each
service once, however many of its certificates changed.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from . import commands, files, lineage, locks, reloads, texts
from .errors import AcmeError, StorageError
from .spec import CertificateSpec

DONE = ".hooks-done.json"
SERVICE_TIMEOUT = 120
HOOK_TIMEOUT = 600
# Reload when the unit can, restart when it has no reload action (the only way it reads a new
# certificate), and leave a stopped unit stopped: it reads the new files when it starts.
SERVICE_COMMAND = ("systemctl", "try-reload-or-restart")
# How long a run waits for another one's services and hooks (a play's beside cron's) before it
# leaves them to the next run.
LOCK_WAIT = 30.0

Run = Callable[..., commands.Finished]


@dataclass(frozen=True)
class Step:
    """One thing that ran (or, with dry_run, would run) for the certificates `names`."""

    what: str
    names: tuple[str, ...]
    error: str | None = None
    finished: commands.Finished | None = None  # the program's exit code and output, when it ran


def due(specs: Sequence[CertificateSpec]) -> list[tuple[CertificateSpec, str]]:
    """The certificates with services or a hook whose live version has not had them run, with that
    version."""
    found = []
    for spec in specs:
        if not (spec.reload_services or spec.deploy_hook):
            continue
        name = str(spec.name)
        version = lineage.current_version(spec.cert_dir, name)
        if not version or files.read_json_object(os.path.join(spec.cert_dir, name, lineage.META)).get("placeholder"):
            continue
        if files.read_json_object(os.path.join(spec.cert_dir, DONE)).get(name) != version:
            found.append((spec, version))
    return found


def run_due(specs: Sequence[CertificateSpec], *, dry_run: bool = False, run: Run = commands.run,
            assume_due: bool = False) -> list[Step]:
    """Reload each service of the due certificates once, then run each due certificate's deploy
    hook; a failure is reported in its Step and stops nothing else. A certificate is recorded as
    done when all of its steps succeeded. With dry_run nothing runs, and assume_due says what a
    new version would run (check mode).

    From "due" to "recorded" each cert_dir's hooks lock is held, and handed to every program run:
    two runs never run one hook at once, not even when the first was killed while its hook ran."""
    if dry_run or assume_due:
        pending = [(spec, "") for spec in specs if spec.reload_services or spec.deploy_hook] if assume_due \
            else due(specs)
        return _steps(pending, dry_run, run, ())
    cert_dirs = sorted({spec.cert_dir for spec in specs if (spec.reload_services or spec.deploy_hook)
                        and os.path.isdir(spec.cert_dir)})
    with contextlib.ExitStack() as held:
        try:
            fds = tuple(held.enter_context(locks.running_hooks(cert_dir, LOCK_WAIT)) for cert_dir in cert_dirs)
        except StorageError as exc:
            waiting = [str(spec.name) for spec, _version in due(specs)]
            return [Step("services and hooks", tuple(waiting), str(exc))] if waiting else []
        pending = due(specs)
        steps = _steps(pending, False, run, fds)
        failed = {name for step in steps if step.error for name in step.names}
        _record([(spec, version) for spec, version in pending if spec.name not in failed])
    return steps


def follow_up(spec: CertificateSpec, changed: bool, *, dry_run: bool, run: Run) -> tuple[list[Step], list[str]]:
    """The certificate module's follow-up of one certificate: run_due() for it (in check mode, what
    `changed` would run). A deploy hook that ran through has done the reload, so the reload-pending
    note it found is cleared. Returns the steps and the warnings."""
    pending = reloads.pending(spec.cert_dir)
    steps = run_due([spec], dry_run=dry_run, run=run, assume_due=dry_run and changed)
    if not steps or any(step.error for step in steps) or not spec.deploy_hook or dry_run:
        return steps, []
    try:
        reloads.clear(spec.cert_dir, pending)
    except AcmeError as exc:
        return steps, [str(exc)]
    return steps, []


def _steps(pending: list[tuple[CertificateSpec, str]], dry_run: bool, run: Run, fds: tuple[int, ...]) -> list[Step]:
    services: dict[str, list[str]] = {}
    for spec, _version in pending:
        for service in spec.reload_services or []:
            services.setdefault(service, []).append(str(spec.name))
    steps = [_step(f"reload {service}", names, [*SERVICE_COMMAND, service], SERVICE_TIMEOUT, {}, dry_run, run, fds)
             for service, names in services.items()]
    for spec, _version in pending:
        if spec.deploy_hook:
            env = {"RENEWED_LINEAGE": os.path.join(spec.cert_dir, str(spec.name)),
                   "RENEWED_DOMAINS": " ".join(spec.domains)}
            steps.append(_step(f"deploy hook of {spec.name}", [str(spec.name)], ["/bin/sh", "-c", spec.deploy_hook],
                               HOOK_TIMEOUT, env, dry_run, run, fds))
    return steps


def _step(what: str, names: list[str], argv: list[str], timeout: float, env: Mapping[str, str],
          dry_run: bool, run: Run, fds: tuple[int, ...]) -> Step:
    if dry_run:
        return Step(what, tuple(names))
    try:
        done = run(argv, timeout=timeout, env=env, keep_fds=fds)
    except commands.CommandError as exc:
        return Step(what, tuple(names), f"{argv[0]}: {exc}")
    if done.returncode:
        output = texts.last_line(done.stderr or done.stdout)
        return Step(what, tuple(names), f"exit code {done.returncode}" + (f": {output}" if output else ""), done)
    return Step(what, tuple(names), finished=done)


def _record(done: list[tuple[CertificateSpec, str]]) -> None:
    by_dir: dict[str, dict[str, str]] = {}
    for spec, version in done:
        by_dir.setdefault(spec.cert_dir, {})[str(spec.name)] = version
    for cert_dir, versions in by_dir.items():
        path = os.path.join(cert_dir, DONE)
        try:
            with locks.holding(cert_dir):
                files.write_json(path, dict(files.read_json_object(path), **versions))
        except OSError as exc:
            raise StorageError(f"the services and hooks ran, but {path} cannot be written ({exc}); "
                               "they run again at the next run") from exc
