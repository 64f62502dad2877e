"""The self-check asks every address the CA would use, IPv6 first, as Let's Encrypt does."""

from __future__ import annotations

import os

from tools.testbed import hosts

from .conftest import fqdn, run_module


def test_a_wrong_answer_over_ipv6_fails_the_self_check_and_names_the_address(testbed):
    # nginx serves the webroot on 127.0.0.2 but, on [::1], an old site answers for the same name.
    with open(os.path.join(testbed.nginx.sites, "dual.conf"), "w") as f:
        f.write(f"server {{ listen [::1]:80; server_name {fqdn('dual')}; "
                "location / { default_type text/plain; return 200 'an old site'; } }\n")
    testbed.nginx.reload()
    hosts.add("::1", [fqdn("dual")])  # removed with the other marked lines at the end of the session
    try:
        result = run_module(testbed.args("dual"))
    finally:
        os.unlink(os.path.join(testbed.nginx.sites, "dual.conf"))
        testbed.nginx.reload()
    assert result.get("failed") is True, result
    message = result["msg"]
    assert f"http://{fqdn('dual')}/.well-known/acme-challenge/" in message
    assert "HTTP 200 with other content ('an old site') from [::1]" in message, message
    assert "No challenge was answered" in message
    assert not os.path.exists(os.path.join(testbed.state, "live", fqdn("dual")))
