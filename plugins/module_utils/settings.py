# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CONFIG_DIR/renew.json, the host CLI's settings (the role writes it): read once per run, every
field checked, with a message that names the field. A command is a list of arguments, never a
string (a string would be run one character at a time).

The web server's name and its commands come from here only, as the web server's role wrote them:
the engine knows no server of its own (`zerodowntime-acme reload` is the one reload path)."""

from __future__ import annotations

import json
import os
import re
from typing import Any, NamedTuple

from . import names
from .errors import ConfigError

FILE = "renew.json"
MAX_BYTES = 1 << 20
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# The server's name as the messages give it ("nginx", "apache2").
_SERVER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}")
DEFAULT_SERVER = "web server"


# NamedTuples, not dataclasses: every run reads them (issuance.py says why that counts).
class Channel(NamedTuple):
    """How a pool's issuer reaches its members (renew.json's "push")."""

    host: str  # the issuer's own name, as members know it
    identity: str
    known_hosts: str
    bind_address: str | None = None
    port: int = 22
    user: str = "root"


class Settings(NamedTuple):
    issue: bool = True  # false: ask no CA (the role's zerodowntime_acme_issue)
    server: str = DEFAULT_SERVER  # its name, for the messages
    validate: tuple[str, ...] = ()  # empty: the server has no configuration check
    reload: tuple[str, ...] = ()  # empty: nothing says how (no renew.json); a reload then fails clearly
    metrics_file: str | None = None
    push: Channel | None = None  # on a pool's issuer


def load(config_dir: str) -> Settings:
    """The settings in CONFIG_DIR/renew.json; the defaults when there is none."""
    path = os.path.join(config_dir, FILE)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        if len(raw) > MAX_BYTES:
            raise ValueError(f"it is larger than {MAX_BYTES} bytes")
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{path} is not JSON ({exc}); run the play again to rewrite it") from None
    return parse(data, path)


def parse(data: Any, path: str = FILE) -> Settings:
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object, not {type(data).__name__}; run the play again to rewrite it")
    issue = data.get("issue", True)
    if not isinstance(issue, bool):
        raise ConfigError(f"{path}: issue is {issue!r:.80}; it must be true or false")
    metrics_file = data.get("metrics_file")
    if metrics_file is not None and not (isinstance(metrics_file, str) and metrics_file.startswith("/")
                                         and "\0" not in metrics_file):
        raise ConfigError(f"{path}: metrics_file is {metrics_file!r:.80}; it must be an absolute path or null")
    server = data.get("server", DEFAULT_SERVER)
    if not isinstance(server, str) or not _SERVER.fullmatch(server):
        raise ConfigError(f"{path}: server is {server!r:.80}; it must be the web server's name, such as \"nginx\"")
    push = data.get("push")
    return Settings(issue=issue, server=server, validate=_command(data, "validate", path, may_be_empty=True),
                    reload=_command(data, "reload", path, may_be_empty=False),
                    metrics_file=metrics_file or None, push=None if push is None else _channel(push, path))


def _channel(data: Any, path: str) -> Channel:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: push is {data!r:.80}; it must be an object or null")
    try:
        channel = Channel(**data)
    except TypeError as exc:
        raise ConfigError(f"{path}: push has an unknown or missing option ({exc})") from None
    for option in ("identity", "known_hosts"):
        value = getattr(channel, option)
        if not isinstance(value, str) or not os.path.isabs(value) or "\0" in value:
            raise ConfigError(f"{path}: push.{option} is {value!r:.80}; it must be an absolute path")
    try:
        names.check_host_name(channel.host, f"{path}: push.host")
    except ConfigError as exc:
        raise ConfigError(f"{exc}; it must be the issuer's inventory name") from None
    if not isinstance(channel.user, str) or not _USER.fullmatch(channel.user):
        raise ConfigError(f"{path}: push.user is {channel.user!r:.80}; it must be a user name")
    if channel.bind_address is not None and not (isinstance(channel.bind_address, str)
                                                 and names.HOST_ADDRESS.fullmatch(channel.bind_address)):
        raise ConfigError(f"{path}: push.bind_address is {channel.bind_address!r:.80}; it must be an address or null")
    if not isinstance(channel.port, int) or isinstance(channel.port, bool) or not 0 < channel.port < 65536:
        raise ConfigError(f"{path}: push.port is {channel.port!r:.80}; it must be a port number")
    return channel


def _command(data: dict[str, Any], key: str, path: str, may_be_empty: bool) -> tuple[str, ...]:
    value = data.get(key)
    example = '["systemctl", "reload", "nginx"]'
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(arg, str) and arg and "\0" not in arg for arg in value):
        raise ConfigError(f"{path}: {key} is {value!r:.80}; it must be a list of arguments, such as {example}")
    if not value and not may_be_empty:
        raise ConfigError(f"{path}: {key} is empty; it must name the command that reloads the web server, such as "
                          f"{example}")
    return tuple(value)
