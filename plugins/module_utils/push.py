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
import subprocess
from dataclasses import dataclass
from typing import Any

from . import files, install, lineage, times
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
            sent[member["host"]] = {"sha256": sha, "serial": current.cert.serial, "at": times.iso(now)}
            if error:
                sent[member["host"]]["error"] = error
            done.append(Delivery(name, member["host"], current.cert.serial, error))
        state[name] = sent
    files.write_json(path, state, 0o600)
    return done


def pending(config_dir: str, spec: Any) -> list[str]:
    """The members of `spec` that do not have its current version (for status and the metrics)."""
    if not spec.members:
        return []
    current = lineage.read(spec.cert_dir, str(spec.name))
    if current is None or current.cert is None or current.cert.self_signed:
        return []
    sha = hashlib.sha256(current.pem).hexdigest()
    sent = files.read_json_object(os.path.join(config_dir, STATE_FILE)).get(str(spec.name))
    sent = sent if isinstance(sent, dict) else {}
    return [m["host"] for m in spec.members
            if not isinstance(sent.get(m["host"]), dict) or sent[m["host"]].get("sha256") != sha
            or sent[m["host"]].get("error")]


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
        done = subprocess.run(command, input=bundle.to_json(), capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot send it to {member['host']} ({member['address']}): {exc}") from exc
    if done.returncode != 0:
        said = (done.stdout or done.stderr).decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"{member['host']} ({member['address']}) did not take it (exit {done.returncode}): "
                          f"{said[-1] if said else 'no answer'}")
