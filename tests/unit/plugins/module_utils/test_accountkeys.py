"""Account-key files: tests plugins/module_utils/accountkeys.py."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import accountkeys, keys
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import AccountError


def test_default_path_is_one_key_per_directory_host():
    assert accountkeys.default_path("https://acme-v02.api.letsencrypt.org/directory") == \
        "/etc/zerodowntime-acme/accounts/acme-v02.api.letsencrypt.org.pem"
    assert accountkeys.default_path("https://127.0.0.1:14000/dir") == \
        "/etc/zerodowntime-acme/accounts/127.0.0.1_14000.pem"
    assert accountkeys.default_path("https://CA.Example/dir") == "/etc/zerodowntime-acme/accounts/ca.example.pem"


def test_a_missing_account_key_is_created_0600_in_a_0700_folder_and_read_back(tmp_path):
    path = tmp_path / "accounts" / "ca.pem"
    created = accountkeys.load(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert keys.type_of(created.public_key()) == "ec256"
    again = accountkeys.load(str(path))
    assert keys.to_pem(again) == keys.to_pem(created)


def test_a_missing_key_is_an_error_when_it_must_exist(tmp_path):
    with pytest.raises(AccountError, match="does not exist"):
        accountkeys.load(str(tmp_path / "new.pem"), create=False)
    assert not (tmp_path / "new.pem").exists()


def test_garbage_is_an_account_error_that_says_what_to_do(tmp_path):
    path = tmp_path / "account.pem"
    path.write_text("not a key")
    with pytest.raises(AccountError, match="not an unencrypted PEM private key.*move the file away"):
        accountkeys.load(str(path))


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "account.pem"
    path.write_text("kept")
    with pytest.raises(AccountError, match="cannot create the account key"):
        accountkeys.create_key(str(path))
    assert path.read_text() == "kept"
