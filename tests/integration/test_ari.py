"""ARI (RFC 9773) against Pebble 2.10: the stored window keeps no-op runs offline; after a
revocation the CA moves the window to now, and the renewal order carries `replaces`."""

from __future__ import annotations

import datetime
import json
import os

import josepy as jose
from acme import client as acme_client
from acme import messages
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .conftest import issue_for_ari, run_module


def _parse(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _revoke_at_the_ca(testbed, cert_path: str) -> None:
    """Revoke with the account key through certbot's acme library, as any ACME client would."""
    with open(os.path.join(testbed.state, "account.pem"), "rb") as f:
        key = jose.JWKEC(key=serialization.load_pem_private_key(f.read(), None))
    net = acme_client.ClientNetwork(key, alg=jose.ES256, verify_ssl=testbed.pebble.ca_bundle)
    directory = acme_client.ClientV2.get_directory(testbed.pebble.directory_url, net)
    client = acme_client.ClientV2(directory, net)
    try:
        client.new_account(messages.NewRegistration(only_return_existing=True))
    except acme_client.errors.ConflictError as found:
        net.account = messages.RegistrationResource(uri=found.location, body=messages.Registration())
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    # Pebble refuses 5% of good nonces and the library retries only once: retry as a client would.
    for attempt in range(5):
        try:
            client.revoke(cert, 4)  # superseded
            return
        except messages.Error as error:
            if error.code != "badNonce" or attempt == 4:
                raise


def _cert_id(cert_path: str) -> str:
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return acme_client._renewal_info_path_component(cert)


def test_a_fresh_window_keeps_the_next_run_offline(testbed):
    issued = issue_for_ari(testbed, "ari", name="ari", profile="default")
    assert issued["changed"] is True, issued
    stored = json.load(open(os.path.join(os.path.realpath(os.path.dirname(issued["paths"]["cert"])), "ari.json")))
    assert _parse(stored["start"]) <= _parse(stored["chosen"]) <= _parse(stored["end"])
    # The point chosen in the CA's window, never later than the lifetime fraction (a third left).
    not_before, not_after = _parse(issued["not_before"]), _parse(issued["not_after"])
    fraction = (not_after - (not_after - not_before) / 3).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert issued["renew_at"] == min(stored["chosen"], fraction)
    requests_before = testbed.pebble.request_count()
    again = run_module(testbed.args("ari", name="ari", profile="default"))
    assert again["changed"] is False and "ARI" in again["reason"], again["reason"]
    assert again["renew_at"] == issued["renew_at"]
    assert testbed.pebble.request_count() == requests_before


def test_revocation_opens_the_window_and_the_renewal_replaces_the_old_certificate(testbed):
    issued = issue_for_ari(testbed, "ari", name="ari", profile="default")
    cert_path = issued["paths"]["cert"]
    old_id = _cert_id(cert_path)
    _revoke_at_the_ca(testbed, cert_path)

    # The stored window still says "later": only a check with the CA learns the news.
    assert run_module(testbed.args("ari", name="ari", profile="default"), check=True)["changed"] is False
    info = run_module({"name": "ari", "cert_dir": os.path.join(testbed.state, "live"),
                       "directory_url": testbed.pebble.directory_url, "ca_bundle": testbed.pebble.ca_bundle,
                       "check_ari": True}, module="zerodowntime.acme.certificate_info")
    assert _parse(info["ari_window"]["start"]) <= datetime.datetime.now(datetime.timezone.utc)
    assert info["due"] is True and "ARI" in info["reason"]

    renewed = run_module(testbed.args("ari", name="ari", profile="default"))
    assert renewed["changed"] is True and "ARI" in renewed["reason"], renewed["reason"]
    assert renewed["replaces"] == old_id
    assert renewed["serial"] != issued["serial"]


def test_an_already_replaced_certificate_is_ordered_again_without_replaces(testbed):
    first = issue_for_ari(testbed, "replaced", name="replaced", profile="default")
    first_id = _cert_id(first["paths"]["cert"])
    replaced_by_force = run_module(testbed.args("replaced", name="replaced", profile="default", force=True))
    assert replaced_by_force["replaces"] == first_id
    # Put the first (now replaced) certificate back in place, as a restore from backup would.
    live = os.path.join(testbed.state, "live")
    versions = sorted(os.listdir(os.path.join(live, ".versions", "replaced")), key=int)
    os.unlink(os.path.join(live, "replaced"))
    os.symlink(os.path.join(".versions", "replaced", versions[0]), os.path.join(live, "replaced"))
    again = run_module(testbed.args("replaced", name="replaced", profile="default", force=True))
    assert again["changed"] is True, again.get("msg", again)
    assert "replaces" not in again
    # Pebble answers alreadyReplaced as a 409, which the library reports without its problem document.
    assert any("refused the order that replaces" in w and ("409" in w or "alreadyReplaced" in w)
               for w in again["warnings"]), again.get("warnings")
