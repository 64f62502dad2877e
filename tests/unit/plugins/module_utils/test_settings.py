"""renew.json, the host CLI's settings: tests plugins/module_utils/settings.py."""

from __future__ import annotations

import json

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import settings
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def test_what_the_role_writes_is_read_as_it_is(tmp_path):
    (tmp_path / "renew.json").write_text(json.dumps({
        "issue": False, "server": "nginx", "validate": ["nginx", "-t"], "reload": ["systemctl", "reload", "nginx"],
        "metrics_file": "/var/lib/node/zdt.prom",
        "push": {"host": "web1", "identity": "/etc/push/id", "known_hosts": "/etc/push/known", "port": 2222}}))
    assert settings.load(str(tmp_path)) == settings.Settings(
        issue=False, server="nginx", validate=("nginx", "-t"), reload=("systemctl", "reload", "nginx"),
        metrics_file="/var/lib/node/zdt.prom",
        push=settings.Channel(host="web1", identity="/etc/push/id", known_hosts="/etc/push/known", port=2222))


def test_without_the_file_no_server_and_no_command():
    """The engine knows no web server of its own: the server's role names it and its commands."""
    assert settings.load("/nonexistent") == settings.Settings()
    assert settings.Settings().reload == () and settings.Settings().server == "web server"


def test_an_empty_validate_means_no_configuration_check():
    assert settings.parse({"validate": [], "reload": ["true"]}).validate == ()


@pytest.mark.parametrize("data, words", [
    ([], "must hold a JSON object, not list"),
    ({"reload": []}, "reload is empty"),
    ({"reload": [1, 2]}, "reload is [1, 2]; it must be a list of arguments"),
    ({"validate": "nginx -t"}, "validate is 'nginx -t'; it must be a list of arguments"),
    ({"reload": ["nginx", ""]}, "it must be a list of arguments"),
    ({"reload": ["nginx\0-s"]}, "it must be a list of arguments"),
    ({"metrics_file": 5}, "metrics_file is 5; it must be an absolute path"),
    ({"metrics_file": "relative.prom"}, "it must be an absolute path"),
    ({"issue": "yes"}, "issue is 'yes'; it must be true or false"),
    ({"server": "nginx\nforged"}, "it must be the web server's name"),
    ({"push": ["web2"]}, "push is ['web2']; it must be an object"),
    ({"push": {"host": "web1"}}, "push has an unknown or missing option"),
    ({"push": {"host": "web1", "identity": "k", "known_hosts": "/h"}}, "push.identity is 'k'; it must be an absolute path"),
    ({"push": {"host": "-oProxyCommand=x", "identity": "/k", "known_hosts": "/h"}}, "is not an inventory host name"),
    ({"push": {"host": "web1", "identity": "/k", "known_hosts": "/h", "port": "22"}}, "push.port is '22'"),
    ({"push": {"host": "web1", "identity": "/k", "known_hosts": "/h", "port": 0}}, "push.port is 0"),
    ({"push": {"host": "web1", "identity": "/k", "known_hosts": "/h", "user": "root;x"}}, "push.user is"),
    ({"push": {"host": "web1", "identity": "/k", "known_hosts": "/h", "bind_address": "-b"}}, "push.bind_address"),
])
def test_a_malformed_value_is_a_clear_error_that_names_it(data, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        settings.parse(data)


@pytest.mark.parametrize("raw, words", [
    (b"{", "is not JSON"), (b"\xff", "is not JSON"), (b"[" * 100000, "is not JSON"),
    (b" " * (settings.MAX_BYTES + 1), "larger than"),
])
def test_a_file_that_is_not_json_is_a_clear_error(tmp_path, raw, words):
    (tmp_path / "renew.json").write_bytes(raw)
    with pytest.raises(ConfigError, match=words):
        settings.load(str(tmp_path))
