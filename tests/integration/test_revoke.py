"""zerodowntime.acme.certificate_revoke against Pebble 2.10: signed by the account key or by the
certificate's own key, with the reason the CA records; and the next certificate run replaces it."""

from __future__ import annotations

import json
import os

from .conftest import fqdn, run_module

MODULE = "zerodowntime.acme.certificate_revoke"


def _revoke_args(testbed, label: str, **extra) -> dict:
    base = dict(name=fqdn(label), cert_dir=os.path.join(testbed.state, "live"),
                directory_url=testbed.pebble.directory_url, ca_bundle=testbed.pebble.ca_bundle,
                account_key=os.path.join(testbed.state, "account.pem"))
    base.update(extra)
    return base


def _status_at_pebble(testbed, serial: str) -> dict:
    return testbed.pebble.cert_status(serial)


def test_revoke_with_the_account_key_then_the_certificate_is_replaced(testbed):
    issued = run_module(testbed.args("revoke"))
    assert issued["changed"], issued.get("msg")
    args = _revoke_args(testbed, "revoke", reason="superseded")

    check = run_module(args, module=MODULE, check=True)
    assert check["changed"] and check["serial"] == issued["serial"]
    assert _status_at_pebble(testbed, issued["serial"])["Status"] == "Valid", "check mode revoked it"

    revoked = run_module(args, module=MODULE)
    assert revoked["changed"] and revoked["reason"] == "superseded"
    status = _status_at_pebble(testbed, issued["serial"])
    assert status["Status"] == "Revoked" and status["Reason"] == 4

    again = run_module(args, module=MODULE)
    assert not again["changed"] and "already revoked" in again["msg"]

    renewed = run_module(testbed.args("revoke"))
    assert renewed["changed"] and "revoked (superseded)" in renewed["reason"]
    assert renewed["serial"] != issued["serial"]
    assert not run_module(testbed.args("revoke"))["changed"]


def test_revoke_with_the_certificates_own_key(testbed):
    issued = run_module(testbed.args("revokekey"))
    assert issued["changed"], issued.get("msg")
    args = _revoke_args(testbed, "revokekey", reason="keyCompromise", use_certificate_key=True,
                        account_key=os.path.join(testbed.state, "no-such-account.pem"))
    revoked = run_module(args, module=MODULE)
    assert revoked["changed"], revoked.get("msg")
    status = _status_at_pebble(testbed, issued["serial"])
    assert status["Status"] == "Revoked" and status["Reason"] == 1
    assert not os.path.exists(args["account_key"])

    # Forget the local note: the CA's own answer (alreadyRevoked) makes it no change either.
    meta_path = os.path.join(testbed.state, "live", fqdn("revokekey"), "meta.json")
    meta = json.loads(open(meta_path).read())
    del meta["revoked"]
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    known = run_module(args, module=MODULE)
    assert not known["changed"] and "already revoked at the CA" in known["msg"]


def test_bad_requests_are_clear_errors(testbed):
    missing = run_module(_revoke_args(testbed, "nothing-here"), module=MODULE)
    assert missing["failed"] and "no certificate named 'nothing-here.zdt.test'" in missing["msg"]

    issued = run_module(testbed.args("revoke"))
    assert not issued.get("failed"), issued.get("msg")
    elsewhere = run_module(_revoke_args(testbed, "revoke", directory_url="https://127.0.0.1:14999/dir"),
                           module=MODULE)
    assert elsewhere["failed"] and "set directory_url to the CA that issued it" in elsewhere["msg"]

    no_account = run_module(_revoke_args(testbed, "revoke", account_key=os.path.join(testbed.state, "stranger.pem")),
                            module=MODULE)
    assert no_account["failed"] and "stranger.pem does not exist" in no_account["msg"]

    reason = run_module(_revoke_args(testbed, "revoke", reason="bored"), module=MODULE)
    assert reason["failed"] and "bored" in reason["msg"]
