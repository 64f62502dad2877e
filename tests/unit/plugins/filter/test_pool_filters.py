"""The role's pool and account filters: tests plugins/filter/pool_members.py and account_key_path.py."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.zerodowntime.acme.plugins.filter.account_key_path import account_key_path
from ansible_collections.zerodowntime.acme.plugins.filter.pool_members import pool_members

POOL = {"name": "pool", "domains": ["pool.example"], "issuer": "web1"}


def test_the_members_are_the_other_hosts_that_list_the_same_certificate_with_that_issuer():
    hostvars = {
        "web1": {"zerodowntime_acme_certificates": [POOL], "ansible_host": "127.0.0.51"},
        "web2": {"zerodowntime_acme_certificates": [POOL], "ansible_host": "web2.lan"},
        "web3": {"zerodowntime_acme_certificates": [POOL], "zerodowntime_acme_push_address": "127.0.0.53"},
        "web4": {"zerodowntime_acme_certificates": [dict(POOL, issuer="web9")]},
        "web5": {"zerodowntime_acme_certificates": [dict(POOL, name="other")]},
        "web6": {"zerodowntime_acme_certificates": [dict(POOL, state="absent")]},
        "db1": {},
    }
    members = pool_members(POOL, "web1", hostvars, list(hostvars))
    assert members == [{"host": "web2", "address": "web2.lan"}, {"host": "web3", "address": "127.0.0.53"}]


def test_a_bad_certificate_is_a_filter_error():
    with pytest.raises(AnsibleFilterError):
        pool_members({"names": []}, "web1", {}, [])


def test_the_account_key_path_is_the_modules_default():
    assert account_key_path("https://127.0.0.1:14000/dir") == "/etc/zerodowntime-acme/accounts/127.0.0.1_14000.pem"
    with pytest.raises(AnsibleFilterError):
        account_key_path(None)
