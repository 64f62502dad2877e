# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pool's issuer pushes its certificates to the pool's members, from cron, without Ansible.

After each `zerodowntime-acme renew`, the issuer sends every member that does not have the current
version of a pool certificate one bundle over SSH. The key it uses is its own (the role makes it),
and on each member it may run nothing but `zerodowntime-acme receive` (authorized_keys: restrict,
from=, command=). What each member was last sent is kept in CONFIG_DIR/delivered.json: a member
that could not be reached is tried again by every run until it has the version.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

from . import commands, files, install, lineage, names, texts, times
from .settings import Channel
from .errors import AcmeError, ConfigError

STATE_FILE = "delivered.json"
TIMEOUT = 60
# What is kept of a member's answer in delivered.json and shown in the issuer's output.
MAX_ANSWER = 500
# `zerodowntime-acme receive`'s exit code for "installed, but the reload or a hook after it failed".
INSTALLED_FOLLOWUPS_FAILED = 3
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SERIAL = re.compile(r"[0-9a-f]{1,64}")


@dataclass
class Delivery:
    name: str
    member: str
    serial: str
    error: str | None  # None: delivered
    followup_error: str | None = None  # delivered, but the member's reload or a hook after it failed


def deliver(config_dir: str, specs: list[Any], channel: Channel, now: datetime.datetime) -> list[Delivery]:
    """Send each member the current version of each pool certificate it does not have yet. Callers
    hold the CLI's lock: delivered.json is read, then written."""
    path = os.path.join(config_dir, STATE_FILE)
    state = load_state(path)
    done: list[Delivery] = []
    for spec in specs:
        if not spec.members:
            continue
        name = str(spec.name)
        current = lineage.read(spec.cert_dir, name)
        if current is None or current.cert is None or current.cert.self_signed:
            continue  # nothing obtained yet: nothing to send
        sha = hashlib.sha256(current.pem).hexdigest()
        sent = state.setdefault(name, {})
        bundle: install.Bundle | None = None
        for member in spec.members:
            before = sent.get(member["host"])
            if before is not None and before["sha256"] == sha and not before.get("error"):
                continue
            followup_error = error = None
            try:
                bundle = bundle or install.export(spec.cert_dir, name, channel.host)
                followup_error = _send(channel, member, bundle)
            except AcmeError as exc:
                error = texts.printable(str(exc), MAX_ANSWER + 200)
            entry: dict[str, Any] = {"sha256": sha, "serial": current.cert.serial, "at": times.iso(now)}
            if error:
                # What the member still serves: what it got last, before this failed attempt.
                entry.update(error=error, delivered_serial=_delivered_serial(before))
            elif followup_error:
                entry.update(followup_error=followup_error)
            sent[member["host"]] = entry
            done.append(Delivery(name, member["host"], current.cert.serial, error, followup_error))
    files.write_json(path, state, 0o600)
    return done


def load_state(path: str) -> dict[str, dict[str, dict[str, Any]]]:
    """delivered.json: {name: {member: entry}}, each field checked; an entry that makes no sense is
    dropped, and its member is sent the certificate again."""
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for name, sent in files.read_json_object(path).items():
        if isinstance(sent, dict) and names.HOST_NAME.fullmatch(name):
            state[name] = {member: entry for member, raw in sent.items()
                           if isinstance(member, str) and (entry := _entry(raw)) is not None}
    return state


def _entry(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("sha256"), str) or not _SHA256.fullmatch(raw["sha256"]) \
            or not isinstance(raw.get("serial"), str) or not _SERIAL.fullmatch(raw["serial"]):
        return None
    try:
        entry: dict[str, Any] = {"sha256": raw["sha256"], "serial": raw["serial"], "at": times.iso(times.parse_iso(raw.get("at")))}
    except ValueError:
        return None
    for field in ("error", "followup_error"):
        if isinstance(raw.get(field), str) and raw[field]:
            entry[field] = texts.printable(raw[field], MAX_ANSWER + 200)
    if entry.get("error") and isinstance(raw.get("delivered_serial"), str) and _SERIAL.fullmatch(raw["delivered_serial"]):
        entry["delivered_serial"] = raw["delivered_serial"]
    return entry


@dataclass
class MemberState:
    host: str
    serial: str | None  # the serial the member was last sent successfully; None: nothing yet
    current: bool  # it has the current version
    error: str | None  # why the last attempt failed
    followup_error: str | None = None  # it has it, but its reload or a hook after it failed


def members(config_dir: str, spec: Any) -> list[MemberState]:
    """What each member of `spec` has, as far as this issuer sent it (for status and the metrics)."""
    if not spec.members:
        return []
    current = lineage.read(spec.cert_dir, str(spec.name))
    sha = hashlib.sha256(current.pem).hexdigest() if current is not None and current.cert is not None else None
    sent = load_state(os.path.join(config_dir, STATE_FILE)).get(str(spec.name), {})
    states = []
    for member in spec.members:
        entry = sent.get(member["host"], {})
        error = entry.get("error")
        states.append(MemberState(host=member["host"], serial=_delivered_serial(entry),
                                  current=sha is not None and entry.get("sha256") == sha and error is None, error=error,
                                  followup_error=entry.get("followup_error")))
    return states


def _delivered_serial(entry: dict[str, Any] | None) -> str | None:
    if not entry:
        return None
    serial = entry.get("delivered_serial") if entry.get("error") else entry.get("serial")
    return serial if isinstance(serial, str) else None


def pending(config_dir: str, spec: Any) -> list[str]:
    """The members of `spec` that do not have its current version (none while it is a placeholder)."""
    current = lineage.read(spec.cert_dir, str(spec.name)) if spec.members else None
    if current is None or current.cert is None or current.cert.self_signed:
        return []
    return [member.host for member in members(config_dir, spec) if not member.current]


def _send(channel: Channel, member: dict[str, str], bundle: install.Bundle) -> str | None:
    """One bundle to one member, over SSH; the member's forced command is `receive --issuer`. Only
    this channel's own options apply: no ssh_config, no system-wide known hosts, and the member's
    host key is looked up under its inventory name (HostKeyAlias), whatever address it has.
    Returns what failed after the member installed it (its reload or a hook), if anything."""
    command = ["ssh", "-F", "/dev/null", "-i", channel.identity, "-p", str(channel.port),
               "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
               "-o", f"UserKnownHostsFile={channel.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
               "-o", f"HostKeyAlias={member['host']}", "-o", "CheckHostIP=no", "-o", "UpdateHostKeys=no",
               "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=10"]
    if channel.bind_address:
        command += ["-o", f"BindAddress={channel.bind_address}"]
    command += [f"{channel.user}@{member['address']}", "zerodowntime-acme", "receive", "--issuer", channel.host]
    try:
        done = commands.run(command, stdin=bundle.to_json(), timeout=TIMEOUT)
    except commands.CommandError as exc:
        raise ConfigError(f"cannot send it to {member['host']} ({member['address']}): {exc}") from exc
    answer = texts.last_line(done.stdout or done.stderr, MAX_ANSWER) or "no answer"
    if done.returncode == INSTALLED_FOLLOWUPS_FAILED:
        return f"{member['host']}: {answer}"
    if done.returncode != 0:
        raise ConfigError(f"{member['host']} ({member['address']}) did not take it (exit {done.returncode}): {answer}")
    return None
