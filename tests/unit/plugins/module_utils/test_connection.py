"""One CA connection: tests plugins/module_utils/connection.py."""

from __future__ import annotations

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import connection
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError


def test_checked_fills_in_the_account_key_of_the_directory():
    ca = connection.CAConnection(directory_url="https://127.0.0.1:14000/dir").checked()
    assert ca.account_key == "/etc/zerodowntime-acme/accounts/127.0.0.1_14000.pem"
    assert connection.CAConnection(account_key="/k.pem").checked().account_key == "/k.pem"


def test_take_removes_exactly_the_connection_options():
    options = dict(directory_url="https://127.0.0.1:14000/dir", timeout=30, domains=["a.example"])
    ca = connection.CAConnection.take(options)
    assert options == dict(domains=["a.example"])
    assert (ca.directory_url, ca.timeout, ca.validate_certs) == ("https://127.0.0.1:14000/dir", 30, True)


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1:14000/dir", "RFC 8555 requires ACME over HTTPS"),
    ("ftp://127.0.0.1/dir", "not https"),
    ("127.0.0.1/dir", "not a URL"),
    ("https://127.0.0.1:99999/dir", "not a URL"),
    ("https://127.0.0.1/dir\nHost: x", "not a URL"),
    ("https:///dir", "not a URL"),
])
def test_a_directory_url_that_cannot_work_is_refused(url, words):
    with pytest.raises(ConfigError, match=words):
        connection.CAConnection(directory_url=url).checked()


@pytest.mark.parametrize("timeout", [0, -1, 3601, True])
def test_timeout_is_bounded(timeout):
    with pytest.raises(ConfigError, match="timeout"):
        connection.CAConnection(timeout=timeout).checked()


def test_the_modules_share_one_declaration_of_the_connection_options():
    import dataclasses

    assert set(connection.ARGUMENT_SPEC) == {f.name for f in dataclasses.fields(connection.CAConnection)}
