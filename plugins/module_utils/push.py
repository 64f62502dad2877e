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
from dataclasses import dataclass
from typing import Any

from . import commands, files, install, lineage, times
from .errors import AcmeError, ConfigError

STATE_FILE = "delivered.json"
TIMEOUT = 60


@dataclass(frozen=True)
class Channel:
    """How the issuer reaches its members (renew.json's "push", written by the role)."""

    host: str  # the issuer's own name, as members know it
    identity: str
    known_hosts: str
    bind_address: str | None = None
    port: int = 22
    user: str = "root"

    @classmethod
    def from_config(cls, data: Any) -> Channel:
        if not isinstance(data, dict):
            raise ConfigError("renew.json's push is not an object")
        try:
            channel = cls(**data)
        except TypeError as exc:
            raise ConfigError(f"renew.json's push has an unknown or missing option: {exc}") from exc
        for option in ("host", "identity", "known_hosts", "user"):
            if not isinstance(getattr(channel, option), str) or not getattr(channel, option):
                raise ConfigError(f"renew.json's push.{option} must be a string")
        if not isinstance(channel.port, int) or isinstance(channel.port, bool):
            raise ConfigError("renew.json's push.port must be a number")
        return channel


@dataclass
class Delivery:
    name: str
    member: str
    serial: str
    error: str | None  # None: delivered


def deliver(config_dir: str, specs: list[Any], channel: Channel, now: datetime.datetime) -> list[Delivery]:
    """Send each member the current version of each pool certificate it does not have yet."""
    path = os.path.join(config_dir, STATE_FILE)
    state = files.read_json_object(path)
    done: list[Delivery] = []
    for spec in specs:
        if not spec.members:
            continue
        name = str(spec.name)
        current = lineage.read(spec.cert_dir, name)
        if current is None or current.cert is None or current.cert.self_signed:
            continue  # nothing obtained yet: nothing to send
        sha = hashlib.sha256(current.pem).hexdigest()
        sent: dict[str, Any] = state[name] if isinstance(state.get(name), dict) else {}
        bundle: install.Bundle | None = None
        for member in spec.members:
            entry = sent.get(member["host"])
            if isinstance(entry, dict) and entry.get("sha256") == sha and not entry.get("error"):
                continue
            try:
                bundle = bundle or install.export(spec.cert_dir, name, channel.host)
                _send(channel, member, bundle)
                error = None
            except AcmeError as exc:
                error = str(exc)
            entry = {"sha256": sha, "serial": current.cert.serial, "at": times.iso(now)}
            if error:
                # What the member still serves: what it got last, before this failed attempt.
                entry.update(error=error, delivered_serial=_delivered_serial(sent.get(member["host"])))
            sent[member["host"]] = entry
            done.append(Delivery(name, member["host"], current.cert.serial, error))
        state[name] = sent
    files.write_json(path, state, 0o600)
    return done


@dataclass
class MemberState:
    host: str
    serial: str | None  # the serial the member was last sent successfully; None: nothing yet
    current: bool  # it has the current version
    error: str | None  # why the last attempt failed


def members(config_dir: str, spec: Any) -> list[MemberState]:
    """What each member of `spec` has, as far as this issuer sent it (for status and the metrics)."""
    if not spec.members:
        return []
    current = lineage.read(spec.cert_dir, str(spec.name))
    sha = hashlib.sha256(current.pem).hexdigest() if current is not None and current.cert is not None else None
    sent = files.read_json_object(os.path.join(config_dir, STATE_FILE)).get(str(spec.name))
    sent = sent if isinstance(sent, dict) else {}
    states = []
    for member in spec.members:
        entry = sent.get(member["host"])
        entry = entry if isinstance(entry, dict) else {}
        error = entry.get("error") if isinstance(entry.get("error"), str) else None
        states.append(MemberState(host=member["host"], serial=_delivered_serial(entry),
                                  current=sha is not None and entry.get("sha256") == sha and error is None, error=error))
    return states


def _delivered_serial(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    serial = entry.get("delivered_serial") if entry.get("error") else entry.get("serial")
    return serial if isinstance(serial, str) else None


def pending(config_dir: str, spec: Any) -> list[str]:
    """The members of `spec` that do not have its current version (none while it is a placeholder)."""
    current = lineage.read(spec.cert_dir, str(spec.name)) if spec.members else None
    if current is None or current.cert is None or current.cert.self_signed:
        return []
    return [member.host for member in members(config_dir, spec) if not member.current]


def _send(channel: Channel, member: dict[str, str], bundle: install.Bundle) -> None:
    """One bundle to one member, over SSH; the member's forced command is `receive`."""
    command = ["ssh", "-i", channel.identity, "-p", str(channel.port),
               "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
               "-o", f"UserKnownHostsFile={channel.known_hosts}", "-o", "ConnectTimeout=10",
               "-o", "ServerAliveInterval=10"]
    if channel.bind_address:
        command += ["-o", f"BindAddress={channel.bind_address}"]
    command += [f"{channel.user}@{member['address']}", "zerodowntime-acme", "receive"]
    try:
        done = commands.run(command, stdin=bundle.to_json(), timeout=TIMEOUT)
    except commands.CommandError as exc:
        raise ConfigError(f"cannot send it to {member['host']} ({member['address']}): {exc}") from exc
    if done.returncode != 0:
        said = (done.stdout or done.stderr).strip().splitlines()
        raise ConfigError(f"{member['host']} ({member['address']}) did not take it (exit {done.returncode}): "
                          f"{said[-1] if said else 'no answer'}")
