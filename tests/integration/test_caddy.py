"""The modules against Caddy's ACME server (smallstep's library): a second, independent CA, so
that nothing depends on Pebble's habits. It has no ARI, no profiles, 12-hour certificates, and
leaves an authorization pending when its challenge failed."""

from __future__ import annotations

import json
import os
import subprocess

from .conftest import fqdn, run_module


def _args(testbed, caddy, label: str, **extra) -> dict:
    options = dict(directory_url=caddy.directory_url, ca_bundle=caddy.ca_bundle,
                   account_key=os.path.join(testbed.state, "caddy-account.pem"))
    return testbed.args(label, **dict(options, **extra))


def test_issue_then_nothing_to_do_with_no_false_warnings(testbed, caddy):
    issued = run_module(_args(testbed, caddy, "caddy"))
    assert issued["changed"] is True, issued.get("msg")
    assert not issued.get("warnings"), issued["warnings"]
    verify = subprocess.run(["openssl", "verify", "-CAfile", caddy.issuing_root, "-untrusted",
                             issued["paths"]["chain"], issued["paths"]["cert"]],
                            capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    again = run_module(_args(testbed, caddy, "caddy"))
    assert again["changed"] is False and again["serial"] == issued["serial"], again
    # A 12-hour certificate renews at half its lifetime; no ARI, so no window and no warning.
    assert "of its 12-hour lifetime left" in again["reason"] and "when half is left" in again["reason"]
    assert not again.get("warnings"), again["warnings"]


def test_force_reissues(testbed, caddy):
    first = run_module(_args(testbed, caddy, "caddyforce"))
    forced = run_module(_args(testbed, caddy, "caddyforce", force=True))
    assert forced["changed"] is True and forced["serial"] != first["serial"], forced.get("msg")
    assert not forced.get("warnings"), forced["warnings"]


def test_revoke_then_the_next_run_replaces_it(testbed, caddy):
    issued = run_module(_args(testbed, caddy, "caddyrevoke"))
    assert issued["changed"], issued.get("msg")
    revoke = dict(name=fqdn("caddyrevoke"), cert_dir=os.path.join(testbed.state, "live"),
                  directory_url=caddy.directory_url, ca_bundle=caddy.ca_bundle,
                  account_key=os.path.join(testbed.state, "caddy-account.pem"), reason="superseded")
    revoked = run_module(revoke, module="zerodowntime.acme.certificate_revoke")
    assert revoked["changed"] is True, revoked.get("msg")
    # Forget the local note: the CA's own answer says it was revoked.
    meta_path = os.path.join(testbed.state, "live", fqdn("caddyrevoke"), "meta.json")
    meta = json.load(open(meta_path))
    del meta["revoked"]
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    known = run_module(revoke, module="zerodowntime.acme.certificate_revoke")
    assert known["changed"] is False and "already revoked at the CA" in known["msg"], known
    renewed = run_module(_args(testbed, caddy, "caddyrevoke"))
    assert renewed["changed"] is True and renewed["serial"] != issued["serial"]


def test_account_create_contacts_and_deactivate(testbed, caddy):
    key = os.path.join(testbed.state, "caddy-account-module.pem")
    base = dict(directory_url=caddy.directory_url, ca_bundle=caddy.ca_bundle, account_key=key)
    created = run_module(dict(base, terms_agreed=True, account_email="ops@zdt.test"), module="zerodowntime.acme.account")
    assert created["changed"] and created["status"] == "valid", created.get("msg")
    same = run_module(dict(base, account_email="ops@zdt.test"), module="zerodowntime.acme.account")
    assert same["changed"] is False, same
    gone = run_module(dict(base, state="absent"), module="zerodowntime.acme.account")
    assert gone["changed"] and gone["status"] == "deactivated", gone.get("msg")
    refused = run_module(_args(testbed, caddy, "caddy", account_key=key, force=True))
    assert refused["failed"] and "deactivated" in refused["msg"]


def test_a_failed_challenge_fails_at_once_with_the_cas_own_error(testbed, caddy):
    # Caddy marks the challenge invalid but leaves the authorization pending: waiting for the
    # authorization would only end at the timeout, with a message that cannot help.
    unserved = os.path.join(testbed.state, "caddy-not-served")
    os.makedirs(unserved, exist_ok=True)
    result = run_module(_args(testbed, caddy, "caddyinvalid", webroot=unserved, self_check=False, timeout=120))
    assert result.get("failed") is True
    message = result["msg"]
    assert f"the CA could not validate {fqdn('caddyinvalid')}" in message, message
    assert "404" in message or "unauthorized" in message or "connection" in message, message
    assert "timeout" not in message, message
    assert f"http://{fqdn('caddyinvalid')}/.well-known/acme-challenge/" in message
    assert not os.path.exists(os.path.join(testbed.state, "live", fqdn("caddyinvalid")))


def test_certificate_info_judges_a_certificate_by_the_ca_that_issued_it(testbed, caddy):
    issued = run_module(_args(testbed, caddy, "caddy"))
    assert not issued.get("failed"), issued.get("msg")
    # No directory_url: the lineage's own CA (Caddy here), not Let's Encrypt's production.
    report = run_module(dict(name=fqdn("caddy"), cert_dir=os.path.join(testbed.state, "live")),
                        module="zerodowntime.acme.certificate_info")
    assert report["due"] is False and "not issued through" not in report["reason"], report
    # Written by the module without a deploy hook: nothing has reloaded a server since.
    assert report["reload_pending"] is True
