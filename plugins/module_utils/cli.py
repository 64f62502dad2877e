# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host CLI, `zerodowntime-acme`: the same engine as the module, run by cron without Ansible.

    zerodowntime-acme renew [--force] [NAME...]   renew what is due; validate and reload nginx once
    zerodowntime-acme status                      names, expiry and next renewal of each certificate
    zerodowntime-acme placeholder NAME            a self-signed pair until the first issuance

The role writes one JSON file per certificate (the module's options) to CONFIG_DIR/certificates/
and the nginx commands to CONFIG_DIR/renew.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import json
import os
import signal
import subprocess
import sys
from typing import Any, Iterator, Sequence

from . import backoff, info, issuance, lineage, metrics
from .errors import AcmeError, ConfigError
from .connection import CONFIG_DIR
from .spec import CertificateSpec, renew_before, validated

LOCK_WAIT_SECONDS = 600
EX_TEMPFAIL = 75
DEFAULT_COMMANDS = {"validate": ["nginx", "-t", "-q"], "reload": ["nginx", "-s", "reload"]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zerodowntime-acme", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config-dir", default=CONFIG_DIR, help="default: %(default)s")
    commands = parser.add_subparsers(dest="command", required=True)
    renew = commands.add_parser("renew", help="renew the certificates that are due, then reload nginx once")
    renew.add_argument("--force", action="store_true", help="renew now, whatever the decision")
    renew.add_argument("names", nargs="*", metavar="NAME", help="only these certificates (default: all)")
    status = commands.add_parser("status", help="show each certificate's names, expiry and next renewal")
    status.add_argument("--json", action="store_true", help="one JSON list, for monitoring")
    placeholder = commands.add_parser("placeholder", help="put a self-signed pair where no certificate exists")
    placeholder.add_argument("names", nargs="+", metavar="NAME")
    args = parser.parse_args(argv)
    try:
        specs = _load_specs(args.config_dir, args.names if args.command != "status" else [])
        if args.command == "renew":
            with _lock(args.config_dir):
                return _renew(args.config_dir, specs, args.force)
        if args.command == "status":
            return _status(specs, args.json)
        return _placeholder(specs)
    except LockTimeout:
        _log(f"another renew still holds the lock after {LOCK_WAIT_SECONDS} s; giving up")
        return EX_TEMPFAIL
    except AcmeError as exc:
        _log(f"error: {exc}")
        return 1


def _renew(config_dir: str, specs: list[CertificateSpec], force: bool) -> int:
    changed = failed = 0
    state_path = os.path.join(config_dir, "backoff.json")
    state = backoff.load(state_path)
    now = datetime.datetime.now(datetime.timezone.utc)
    for spec in specs:
        name = str(spec.name)
        waiting = backoff.waiting_until(state, name, now)
        if waiting and not force:
            failed += 1
            _log(f"{name}: skipped after {state[name]['failures']} failed attempt(s); next try after "
                 f"{waiting:%Y-%m-%d %H:%M} UTC (renew --force {name} tries now)")
            continue
        try:
            outcome = issuance.ensure(spec if not force else _with(spec, force=True))
        except AcmeError as exc:
            failed += 1
            entry = backoff.failed(state, name, now, getattr(exc, "retry_after", None))
            _log(f"{name}: FAILED, the current certificate stays in place: {exc} "
                 f"(attempt {entry['failures']}; next try after {entry['next_attempt'][:16]} UTC)")
            continue
        backoff.succeeded(state, name)
        for warning in outcome.warnings:
            _log(f"{name}: warning: {warning}")
        if outcome.changed:
            changed += 1
            _log(f"{name}: renewed ({outcome.reason}); serial {outcome.serial}, expires {outcome.not_after}")
        else:
            _log(f"{name}: {outcome.reason}")
    backoff.save(state_path, state)
    if changed:
        failed += _reload_nginx(config_dir)
    _write_metrics(config_dir, state, now, success=not failed)
    return 1 if failed else 0


def _write_metrics(config_dir: str, state: dict[str, dict[str, Any]], run_at: datetime.datetime,
                   success: bool) -> None:
    """The Prometheus textfile, when renew.json names one (the role's zerodowntime_acme_metrics_file),
    with every certificate, also those this run was not asked to renew."""
    path = _read_json(os.path.join(config_dir, "renew.json"), default={}).get("metrics_file")
    if not path:
        return
    specs = _load_specs(config_dir, [])
    failures = {name: int(entry.get("failures", 0)) for name, entry in state.items()}
    try:
        metrics.write(path, metrics.render(_infos(specs), failures, run_at=run_at, success=success))
    except OSError as exc:
        _log(f"metrics: cannot write {path}: {exc}")


def _reload_nginx(config_dir: str) -> int:
    """`nginx -t`, then one reload for the whole run. Returns the number of failures (0 or 1)."""
    commands = dict(DEFAULT_COMMANDS, **_read_json(os.path.join(config_dir, "renew.json"), default={}))
    for step in ("validate", "reload"):
        done = subprocess.run(commands[step], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            _log(f"nginx: {' '.join(commands[step])} failed ({done.returncode}): "
                 f"{(done.stderr or done.stdout).strip()}; nginx keeps serving the previous certificates")
            return 1
    _log(f"nginx: configuration valid, reloaded with {' '.join(commands['reload'])}")
    return 0


def _infos(specs: list[CertificateSpec]) -> list[info.Info]:
    return [info.describe(spec.cert_dir, str(spec.name), directory_url=spec.ca.directory_url, domains=spec.domains,
                          key_type=spec.key_type, profile=spec.profile, renew_before=renew_before(spec.renew_before_days))
            for spec in specs]


def _status(specs: list[CertificateSpec], as_json: bool) -> int:
    infos = _infos(specs)
    if as_json:
        sys.stdout.write(json.dumps([i.as_dict() for i in infos], indent=2) + "\n")
        return 0
    for spec, one in zip(specs, infos):
        expires = one.not_after or "-"
        sys.stdout.write(f"{one.name}: {', '.join(spec.domains)}; expires {expires}; "
                         f"renews {one.renew_at or 'now'}; {one.reason}\n")
    return 0


def _placeholder(specs: list[CertificateSpec]) -> int:
    from . import keys  # cryptography: needed here only

    keys.require_cryptography()
    for spec in specs:
        name = str(spec.name)
        if lineage.read(spec.cert_dir, name) is not None:
            _log(f"{name}: a certificate exists; no placeholder needed")
            continue
        key = keys.generate(spec.key_type)
        lineage.write(spec.cert_dir, name, keys.to_pem(key), keys.self_signed(key, spec.domains),
                      {"placeholder": True, "domains": spec.domains})
        _log(f"{name}: self-signed placeholder written; the first renew replaces it")
    return 0


def _load_specs(config_dir: str, only: Sequence[str]) -> list[CertificateSpec]:
    folder = os.path.join(config_dir, "certificates")
    try:
        files = sorted(f for f in os.listdir(folder) if f.endswith(".json"))
    except FileNotFoundError:
        files = []
    specs = []
    for filename in files:
        path = os.path.join(folder, filename)
        data = _read_json(path)
        if not isinstance(data, dict):
            raise ConfigError(f"{path} does not hold a JSON object of options")
        try:
            spec = validated(CertificateSpec.from_options(data))
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        specs.append(spec)
    known = {str(s.name) for s in specs}
    missing = [n for n in only if n not in known]
    if missing:
        raise ConfigError(f"no certificate named {', '.join(missing)} in {folder} (known: {', '.join(sorted(known)) or 'none'})")
    return [s for s in specs if not only or s.name in only]


def _read_json(path: str, default: Any = None) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        if default is not None:
            return default
        raise ConfigError(f"{path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _with(spec: CertificateSpec, **changes: Any) -> CertificateSpec:
    import dataclasses

    return dataclasses.replace(spec, **changes)


@contextlib.contextmanager
def _lock(config_dir: str) -> Iterator[None]:
    """One renew at a time: a second one waits for the first (up to LOCK_WAIT_SECONDS)."""
    os.makedirs(config_dir, exist_ok=True)
    with open(os.path.join(config_dir, ".renew.lock"), "w", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log("another renew is running; waiting for it to finish")
            signal.signal(signal.SIGALRM, _lock_timeout)
            signal.alarm(LOCK_WAIT_SECONDS)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            finally:
                signal.alarm(0)
        yield


class LockTimeout(Exception):
    """The lock stayed taken for LOCK_WAIT_SECONDS."""


def _lock_timeout(signum: int, frame: Any) -> None:
    raise LockTimeout()


def _log(message: str) -> None:
    sys.stdout.write(f"{datetime.datetime.now():%Y-%m-%d %H:%M:%S} zerodowntime-acme: {message}\n")
    sys.stdout.flush()
