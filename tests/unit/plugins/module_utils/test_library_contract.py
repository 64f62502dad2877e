"""The private names of `acme` (and of requests/urllib3) that the engine leans on.

certbot's `acme` has no public way to send an order with `replaces`, to POST a message of our own,
or to hook its HTTP: client.py and network.py use a few of its private names for that. An upgrade
that renames one must fail here, loudly, not in a user's renewal. The list is checked against the
source, so a new private name cannot be used without being listed.
"""

from __future__ import annotations

import os
import re

import josepy as jose
import requests
from acme import client as acme_client
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.zerodowntime.acme.plugins.module_utils import client, network

ENGINE = os.path.dirname(client.__file__)
# ClientV2's private methods that client.py calls through self._client.
CLIENT_V2 = {"_post", "_post_as_get", "_authzr_from_response"}
# ClientNetwork's private methods that network.py calls or overrides (the library's post path
# is _post_once -> _get_nonce/_wrap_in_jws -> _send_request -> _check_response -> _add_nonce).
CLIENT_NETWORK = {"_post_once", "_send_request", "_get_nonce", "_wrap_in_jws", "_check_response", "_add_nonce"}
# ClientNetwork's attributes that network.py and client.py read or set.
NETWORK_ATTRIBUTES = {"session", "verify_ssl", "user_agent", "account", "key"}


def _used(source: str, pattern: str) -> set[str]:
    with open(os.path.join(ENGINE, source), encoding="utf-8") as f:
        return set(re.findall(pattern, f.read()))


def test_every_private_clientv2_name_used_is_listed_and_exists():
    assert _used("client.py", r"self\._client\.(_\w+)") <= CLIENT_V2
    for name in CLIENT_V2:
        assert callable(getattr(acme_client.ClientV2, name, None)), f"acme.client.ClientV2.{name} is gone"


def test_every_private_clientnetwork_name_used_is_listed_and_exists():
    used = _used("network.py", r"self\.(_[a-z]\w+)\(") - {"_request_once", "_read_body", "_time_left", "_wait_for",
                                                          "_affordable"}
    assert used <= CLIENT_NETWORK
    for name in CLIENT_NETWORK:
        assert callable(getattr(acme_client.ClientNetwork, name, None)), f"acme.client.ClientNetwork.{name} is gone"


def test_the_network_attributes_exist_on_a_fresh_clientnetwork():
    net = acme_client.ClientNetwork(key=jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1())))
    for name in NETWORK_ATTRIBUTES:
        assert hasattr(net, name), f"acme.client.ClientNetwork().{name} is gone"
    assert isinstance(net.session, requests.Session)


def test_requests_keeps_the_body_where_network_py_puts_it():
    # network.py reads the body itself (capped, within a deadline) and hands it to requests.
    response = requests.Response()
    response._content = b'{"a": 1}'
    response._content_consumed = True
    assert response.json() == {"a": 1} and response.content == b'{"a": 1}'


def test_requests_lets_a_session_veto_a_redirect():
    assert callable(getattr(requests.Session, "get_redirect_target", None))
    assert issubclass(network._NoDowngradeSession, requests.Session)
