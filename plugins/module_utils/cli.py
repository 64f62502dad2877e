# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host CLI, `zerodowntime-acme`: the same engine as the module, run by cron without Ansible.

    zerodowntime-acme renew [--force] [--verbose] [--jobs N] [NAME...]
                                                              renew what is due, N at once; reload the server once
    zerodowntime-acme status [--json]                         names, expiry and next renewal of each certificate
    zerodowntime-acme placeholder NAME...                     a self-signed pair until the first issuance
    zerodowntime-acme receive --issuer HOST < BUNDLE          a pool member: install what its issuer sends
    zerodowntime-acme push                                    a pool's issuer: send the members what they lack
    zerodowntime-acme services                                reload the other services of certificates that changed
    zerodowntime-acme reload                                  check and reload the web server, then `services`

The role writes one JSON file per certificate (the module's options) to CONFIG_DIR/certificates/
and the web server's commands to CONFIG_DIR/renew.json (settings.py). `renew` prints nothing when
nothing was renewed and nothing failed, so that cron mails only about changes and failures; every
run leaves a summary in syslog (journalctl -t zerodowntime-acme). Every line it prints is one line:
what it quotes from a peer or a file has its control characters escaped (texts.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import json
import os
import signal
import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from . import backoff, batch, commands, hooks, names, reloads, settings, texts, times
from .paths import CONFIG_DIR
from .errors import AcmeError, ConfigError
from .spec import CertificateSpec, renew_before, validated

if TYPE_CHECKING:
    from . import info

LOCK_WAIT_SECONDS = 600
# receive waits less: the issuer's ssh gives up after push.TIMEOUT, and tries again at its next run.
RECEIVE_LOCK_WAIT_SECONDS = 40
EX_TEMPFAIL = 75
# One line of cron's mail or syslog, however long what it quotes.
MAX_LINE = 4000
# Options that older releases of the role stored, which are not the certificate's: ignored.
LEGACY_RUN_OPTIONS = ("force",)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zerodowntime-acme", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config-dir", default=CONFIG_DIR, help="default: %(default)s")
    parser.add_argument("--now", help=argparse.SUPPRESS)  # tests: the engine's clock, ISO 8601 UTC
    # prog given: else argparse lays out a usage line (and imports shutil) to derive it.
    subcommands = parser.add_subparsers(dest="command", required=True, prog=parser.prog)
    renew = subcommands.add_parser("renew", help="renew the certificates that are due, then reload the web server once")
    renew.add_argument("--force", action="store_true", help="renew now, whatever the decision")
    renew.add_argument("--verbose", "-v", action="store_true", help="also print the certificates with nothing to do")
    renew.add_argument("--jobs", "-j", type=_jobs, default=batch.DEFAULT_JOBS, metavar="N",
                       help="renew up to N certificates at once (default: %(default)s; 1: one after the other)")
    renew.add_argument("names", nargs="*", metavar="NAME", help="only these certificates (default: all)")
    status = subcommands.add_parser("status", help="show each certificate's names, expiry and next renewal")
    status.add_argument("--json", action="store_true", help="one JSON list, for monitoring")
    placeholder = subcommands.add_parser("placeholder", help="put a self-signed pair where no certificate exists")
    placeholder.add_argument("names", nargs="+", metavar="NAME")
    receive = subcommands.add_parser("receive", help="install a certificate that the pool's issuer sends on stdin "
                                                     "(the forced command of its SSH key)")
    receive.add_argument("--issuer", required=True, type=_host_name, metavar="HOST",
                         help="the issuer whose key runs this command (authorized_keys names it); a bundle that "
                              "names another sender, or a certificate issued elsewhere, is refused")
    subcommands.add_parser("push", help="a pool's issuer: send each member what it lacks (renew does it too)")
    subcommands.add_parser("services", help="reload the services and run the deploy hooks of the certificates "
                                            "that changed since they last ran (renew does it too)")
    subcommands.add_parser("reload", help="check the web server's configuration and reload it with renew.json's "
                                          "commands, then do what `services` does (the roles' handler)")
    args = parser.parse_args(argv)
    # What a peer sent may end up in a message: never a crash on a lone surrogate.
    reconfigure = getattr(sys.stdout, "reconfigure", None)  # a text stream of the process's own
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    log = Log(verbose=getattr(args, "verbose", False) or args.command != "renew")
    try:
        now = times.parse_iso(args.now) if args.now else None
        loaded = _load_specs(args.config_dir)
        config = settings.load(args.config_dir)
        if args.command == "renew":
            with _lock(args.config_dir, log):
                return _renew(args.config_dir, loaded, config, args.names, args.force, log, now, args.jobs)
        if args.command == "status":
            return _status(args.config_dir, loaded, config, args.json, log)
        if args.command == "receive":
            return _receive(args.config_dir, loaded, config, args.issuer, log, now)
        if args.command == "push":
            with _lock(args.config_dir, log):
                return 1 if _push(args.config_dir, loaded.specs, config, now or times.now(), log) else 0
        if args.command == "services":
            with _lock(args.config_dir, log):
                return 1 if _followups(loaded.specs, log) else 0
        if args.command == "reload":
            with _lock(args.config_dir, log):
                reloaded = _reload_server(loaded.specs, config, log, always=True)
                return 1 if _followups(loaded.specs, log) or reloaded == "failed" else 0
        return _placeholder(loaded, args.names, log)
    except LockTimeout as exc:
        log.always(f"another run of zerodowntime-acme still holds the lock after {exc} s; giving up")
        return EX_TEMPFAIL
    except (AcmeError, ValueError) as exc:
        log.always(f"error: {exc}")
        return 1


def _host_name(text: str) -> str:
    try:
        return names.check_host_name(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= batch.MAX_JOBS:
        raise argparse.ArgumentTypeError(f"must be a number from 1 to {batch.MAX_JOBS}, not {text!r}")
    return jobs


@dataclass
class Loaded:
    """The certificates of CONFIG_DIR/certificates/, and the files that could not be used."""

    specs: list[CertificateSpec]
    broken: dict[str, str] = field(default_factory=dict)  # file name -> why

    def select(self, names: Sequence[str]) -> list[CertificateSpec]:
        known = {str(s.name) for s in self.specs}
        missing = [n for n in names if n not in known and f"{n}.json" not in self.broken]
        if missing:
            raise ConfigError(f"no certificate named {', '.join(missing)} (known: {', '.join(sorted(known)) or 'none'})")
        return [s for s in self.specs if not names or s.name in names]


class Log:
    """stdout for cron (which mails what is printed: changes and failures, or everything when
    verbose) and syslog for the history."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def always(self, message: str) -> None:
        message = texts.printable(message, MAX_LINE)
        self._print(message)
        _syslog(message)

    def detail(self, message: str) -> None:
        if self.verbose:
            self._print(texts.printable(message, MAX_LINE))

    @staticmethod
    def _print(message: str) -> None:
        sys.stdout.write(f"{times.now().astimezone():%Y-%m-%d %H:%M:%S} zerodowntime-acme: {message}\n")
        sys.stdout.flush()


def _renew(config_dir: str, loaded: Loaded, config: settings.Settings, names: Sequence[str], force: bool, log: Log,
           now: datetime.datetime | None, jobs: int = batch.DEFAULT_JOBS) -> int:
    run_at = now or times.now()
    changed = failed = quiet = 0
    for broken, why in loaded.broken.items():
        failed += 1
        log.always(f"{broken}: skipped, {why}")
    state_path = os.path.join(config_dir, "backoff.json")
    state, dropped = backoff.load(state_path)
    as_loaded = {name: dict(entry) for name, entry in state.items()}
    for warning in dropped:
        log.always(f"backoff: {warning}")
    selected = loaded.select(names)
    issuing = config.issue
    if not issuing:
        log.always("issuing is off (the role's zerodowntime_acme_issue is false): nothing is sent to any CA, and "
                   "the placeholders stay until a play turns it on")
        selected = []
    waiting = {str(s.name): backoff.waiting_until(state, str(s.name), run_at) for s in selected}
    due = [s for s in selected if not waiting[str(s.name)] or force]
    results = dict(zip((str(s.name) for s in due), batch.ensure_all([(s, force) for s in due], jobs=jobs, now=now)))
    for spec in selected:  # reported in the order of the certificates, however many ran at once
        name = str(spec.name)
        if name not in results:
            failed += 1
            log.always(f"{name}: skipped after {state[name]['failures']} failed attempt(s); next try after "
                       f"{waiting[name]:%Y-%m-%d %H:%M} UTC (renew --force {name} tries now)")
            continue
        outcome = results[name]
        if isinstance(outcome, BaseException):  # one certificate's trouble, whatever it is, stays its own
            failed += 1
            exc = outcome
            what = str(exc) if isinstance(exc, AcmeError) else f"unexpected {type(exc).__name__}: {exc}"
            entry = backoff.failed(state, name, run_at, getattr(exc, "retry_after", None))
            log.always(f"{name}: FAILED, the current certificate stays in place: {what} "
                       f"(attempt {entry['failures']}; next try after {entry['next_attempt'][:16]} UTC)")
            continue
        backoff.succeeded(state, name)
        if outcome.changed and not outcome.renewed:
            changed += 1
            log.always(f"{name}: not renewed, but its files were put right: {'; '.join(outcome.repaired)}")
        elif outcome.changed:
            changed += 1
            log.always(f"{name}: renewed ({outcome.reason}); serial {outcome.serial}, expires {outcome.not_after}")
            for warning in outcome.warnings:
                log.always(f"{name}: warning: {warning}")
        else:
            quiet += 1
            log.detail(f"{name}: {outcome.reason}")
            for warning in outcome.warnings:
                log.detail(f"{name}: warning: {warning}")
    try:
        if state != as_loaded or dropped:  # a run with nothing due writes nothing
            backoff.save(state_path, state)
    except OSError as exc:
        failed += 1
        log.always(f"backoff: cannot write {state_path}: {exc}")
    reload = _reload_server(loaded.specs, config, log)
    failed += reload == "failed"
    hook_failures = _followups(loaded.specs, log)
    failed += len(hook_failures)
    failed += _push(config_dir, loaded.specs, config, run_at, log) if issuing else 0
    _write_metrics(config_dir, loaded, config, state, run_at, success=not failed, log=log, hook_failures=hook_failures)
    _syslog(f"renew: {changed} renewed, {failed} failed, {quiet} not due; reload: {reload}")
    return 1 if failed else 0


def _reload_server(specs: list[CertificateSpec], config: settings.Settings, log: Log, always: bool = False) -> str:
    """The one reload path: check the web server's configuration and reload it with renew.json's
    commands, then clear each cert_dir's reload-pending note if it still says what it said before
    the reload (a certificate written meanwhile keeps it). Without `always`, only when a note is
    pending: this run's renewals, an earlier reload that failed, a play that stopped before its
    handlers. 'none', 'done' or 'failed'."""
    seen: dict[str, dict[str, Any]] = {}
    for cert_dir in sorted({s.cert_dir for s in specs}):
        marker = reloads.pending(cert_dir)
        if marker is not None:
            seen[cert_dir] = marker
    if not seen and not always:
        return "none"
    names = sorted({n for marker in seen.values() for n in marker["names"]})
    waiting = f" ({', '.join(names)})" if names else ""
    if not config.reload:
        log.always(f"{config.server}: renew.json names no command to reload it, so nothing was reloaded; run the play "
                   f"(the web server's role writes it){waiting}")
        return "failed"
    for command in (config.validate, config.reload):
        if not command:
            continue  # a server without a configuration check
        try:
            done = commands.run(command, timeout=120, env={})
            problem = f"({done.returncode}): {texts.last_line(done.stderr or done.stdout)}" if done.returncode else ""
        except commands.CommandError as exc:
            problem = f"({exc})"
        if problem:
            log.always(f"{config.server}: {' '.join(command)} failed {problem}; it keeps serving the previous "
                       f"certificates, and the next renew tries again{waiting}")
            return "failed"
    for cert_dir, marker in seen.items():
        reloads.clear(cert_dir, marker)
    log.always(f"{config.server}: configuration valid, reloaded with {' '.join(config.reload)}{waiting}")
    return "done"


def _followups(specs: list[CertificateSpec], log: Log) -> list[hooks.Step]:
    """After the web server: the other services and deploy hooks of the certificates that changed. Returns
    the steps that failed; they run again at the next run."""
    try:
        steps = hooks.run_due(specs)
    except AcmeError as exc:
        log.always(f"services: {exc}")
        return [hooks.Step("record", (), str(exc))]
    for step in steps:
        names = ", ".join(step.names)
        if step.error:
            log.always(f"{step.what} FAILED ({names}), tried again next run: {step.error}")
        else:
            log.always(f"{step.what}: done ({names})")
    return [step for step in steps if step.error]


def _push(config_dir: str, specs: list[CertificateSpec], config: settings.Settings, now: datetime.datetime,
          log: Log) -> int:
    """A pool's issuer sends its members what they lack; returns the number of failed deliveries.
    Callers hold the CLI's lock (delivered.json is read, then written)."""
    if not any(s.members for s in specs):
        return 0
    from . import push  # pool issuers only: a run with nothing due loads no more than it needs

    if config.push is None:
        log.always("push: this host issues pool certificates, but renew.json says nothing about how to push them")
        return 1
    failed = 0
    for delivery in push.deliver(config_dir, specs, config.push, now):
        if delivery.error:
            failed += 1
            log.always(f"{delivery.name}: NOT delivered to {delivery.member}, tried again next run: {delivery.error}")
        elif delivery.followup_error:
            log.always(f"{delivery.name}: serial {delivery.serial} delivered to {delivery.member}, but what follows "
                       f"there failed (its next renew runs it again): {delivery.followup_error}")
        else:
            log.always(f"{delivery.name}: serial {delivery.serial} delivered to {delivery.member}")
    return failed


def _write_metrics(config_dir: str, loaded: Loaded, config: settings.Settings, state: dict[str, dict[str, Any]],
                   run_at: datetime.datetime, success: bool, log: Log, hook_failures: Sequence[hooks.Step] = ()) -> None:
    """The Prometheus textfile, when renew.json names one (the role's zerodowntime_acme_metrics_file),
    with every certificate, also those this run was not asked to renew."""
    path = config.metrics_file
    if not path:
        return
    from . import metrics, push

    failures = {name: int(entry["failures"]) for name, entry in state.items()}
    pending = any(reloads.pending(d) for d in {s.cert_dir for s in loaded.specs})
    undelivered = {str(s.name): len(push.pending(config_dir, s)) for s in loaded.specs if s.members}
    members = {str(s.name): push.members(config_dir, s) for s in loaded.specs if s.members}
    try:
        metrics.write(path, metrics.render(_infos(loaded.specs), failures, run_at=run_at, success=success,
                                           reload_pending=pending, undelivered=undelivered, members=members,
                                           hook_failures={s.what: s.names for s in hook_failures}))
    except OSError as exc:
        log.always(f"metrics: cannot write {path}: {exc}")


def _infos(specs: list[CertificateSpec]) -> list[info.Info]:
    from . import info  # pylint: disable=redefined-outer-name

    return [info.describe(spec.cert_dir, str(spec.name), directory_url=spec.ca.directory_url, domains=spec.domains,
                          key_type=spec.key_type, profile=spec.profile, renew_before=renew_before(spec.renew_before_days))
            for spec in specs]


def _status(config_dir: str, loaded: Loaded, config: settings.Settings, as_json: bool, log: Log) -> int:
    from . import push

    infos = _infos(loaded.specs)
    if not as_json and not config.issue:
        sys.stdout.write("issuing is off (zerodowntime_acme_issue: false): renew asks no CA\n")
    if as_json:
        listed = [dict(i.as_dict(), members=[asdict(m) for m in push.members(config_dir, spec)])
                  if spec.members else i.as_dict() for spec, i in zip(loaded.specs, infos)]
        sys.stdout.write(json.dumps(listed, indent=2) + "\n")
        return 1 if loaded.broken else 0
    for spec, one in zip(loaded.specs, infos):
        expires = one.not_after or "-"
        pending = "; reload pending" if one.reload_pending else ""
        pending += f"; received from {one.received_from}" if one.received_from else ""
        undelivered = push.pending(config_dir, spec)
        pending += f"; not yet delivered to {', '.join(undelivered)}" if undelivered else (
            f"; delivered to {len(spec.members)} member(s)" if spec.members else "")
        if spec.members:
            have = [f"{m.host} {m.serial or 'nothing'}" + (" (its reload or hooks failed)" if m.followup_error else "")
                    for m in push.members(config_dir, spec)]
            pending += f"; members have {', '.join(have)}"
        # One line each: meta.json and delivered.json are files anyone with root may have edited.
        line = f"{one.name}: {', '.join(spec.domains)}; expires {expires}; renews {one.renew_at or 'now'}{pending}; " \
               f"{one.reason}"
        sys.stdout.write(texts.printable(line, MAX_LINE) + "\n")
    for broken, why in loaded.broken.items():
        sys.stdout.write(texts.printable(f"{broken}: cannot be used: {why}", MAX_LINE) + "\n")
    return 1 if loaded.broken else 0


def _receive(config_dir: str, loaded: Loaded, config: settings.Settings, issuer: str, log: Log,
             now: datetime.datetime | None) -> int:
    """A pool member's side of the issuer's push: one bundle on stdin, checked, installed, and one
    reload when it changed. `issuer` is who sent it, as this host's authorized_keys line says: a
    key holder writes the bundle, so nothing in it is taken on trust."""
    from . import install, push

    bundle = install.Bundle.from_json(sys.stdin.buffer.read(install.MAX_BUNDLE + 1), now)
    if bundle.issuer != issuer:
        raise ConfigError(f"the bundle says it comes from {bundle.issuer!r}, but it was sent with the key of "
                          f"{issuer!r}; nothing was installed")
    spec = next((s for s in loaded.specs if s.name == bundle.name), None)
    if spec is None:
        raise ConfigError(f"no certificate named {bundle.name!r} is configured on this host; nothing was installed")
    if spec.issuer != issuer:
        raise ConfigError(f"{bundle.name!r} is issued on {spec.issuer or 'this host'}, not on {issuer!r}; "
                          "nothing was installed")
    with _lock(config_dir, log, RECEIVE_LOCK_WAIT_SECONDS):
        outcome = install.receive(spec, bundle, now)
        log.always(f"{bundle.name}: {outcome.reason}; serial {outcome.serial}, expires {outcome.not_after}")
        for warning in outcome.warnings:
            log.always(f"{bundle.name}: warning: {warning}")
        reload_failed = _reload_server(loaded.specs, config, log) == "failed"
        followups_failed = bool(_followups(loaded.specs, log))
    # In place, but what follows failed: the issuer counts it as delivered (sending it again would
    # change nothing), and this host's next renew runs what failed again.
    return push.INSTALLED_FOLLOWUPS_FAILED if reload_failed or followups_failed else 0


def _placeholder(loaded: Loaded, names: Sequence[str], log: Log) -> int:
    from . import placeholders

    for spec in loaded.select(names):
        if placeholders.place(spec):
            log.detail(f"{spec.name}: self-signed placeholder written; the first renew replaces it")
        else:
            log.detail(f"{spec.name}: a certificate exists; no placeholder needed")
    return 0


def _load_specs(config_dir: str) -> Loaded:
    """Every CONFIG_DIR/certificates/*.json; a file that cannot be used is set aside with the
    reason, so that it stops only itself."""
    folder = os.path.join(config_dir, "certificates")
    try:
        filenames = sorted(f for f in os.listdir(folder) if f.endswith(".json"))
    except FileNotFoundError:
        filenames = []
    loaded = Loaded(specs=[])
    for filename in filenames:
        try:
            data = _read_json(os.path.join(folder, filename))
            if not isinstance(data, dict):
                raise ConfigError("it does not hold a JSON object of options")
            for option in LEGACY_RUN_OPTIONS:
                data.pop(option, None)
            loaded.specs.append(validated(CertificateSpec.from_options(data)))
        except AcmeError as exc:
            loaded.broken[filename] = str(exc)
    return loaded


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


@contextlib.contextmanager
def _lock(config_dir: str, log: Log, wait: int | None = None) -> Iterator[None]:
    """One run at a time of whatever writes or reloads (renew, receive, push, services): a second one
    waits for the first, up to `wait` seconds."""
    wait = wait or LOCK_WAIT_SECONDS
    os.makedirs(config_dir, exist_ok=True)
    fd = os.open(os.path.join(config_dir, ".renew.lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.always("another run of zerodowntime-acme is running; waiting for it to finish")
            signal.signal(signal.SIGALRM, lambda signum, frame: _lock_timeout(wait))
            signal.alarm(wait)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            finally:
                signal.alarm(0)
        yield
    finally:
        os.close(fd)


class LockTimeout(Exception):
    """The lock stayed taken for the seconds it says."""


def _lock_timeout(wait: int) -> None:
    raise LockTimeout(wait)


def _syslog(message: str) -> None:
    """One line in syslog (the journal on systemd hosts): journalctl -t zerodowntime-acme."""
    import syslog

    syslog.openlog("zerodowntime-acme", syslog.LOG_PID, syslog.LOG_CRON)
    syslog.syslog(syslog.LOG_INFO, message)
