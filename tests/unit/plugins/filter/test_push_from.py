"""The from= of a pool member's authorized_keys line: tests plugins/filter/push_from.py."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.zerodowntime.acme.plugins.filter.push_from import push_from


def test_addresses_and_networks_come_back_canonical():
    assert push_from("127.0.0.51") == "127.0.0.51"
    assert push_from(" 127.0.0.51, 2001:DB8:0::1 ,10.0.0.0/8,2001:db8::/64") == "127.0.0.51,2001:db8::1,10.0.0.0/8,2001:db8::/64"


@pytest.mark.parametrize("value", ["web1.example.org", "", "127.0.0.1\",command=\"/bin/sh", None, 5,
                                   "127.0.0.1,,127.0.0.2", "*", ",".join(["127.0.0.1"] * 17)])
def test_anything_else_fails_the_play_with_the_variable_to_set(value):
    """It once fell back to the issuer's ansible_host with no check: a host name never matches, and a
    quote ends the option (issue 19)."""
    with pytest.raises(AnsibleFilterError, match="zerodowntime_acme_push_from"):
        push_from(value)
