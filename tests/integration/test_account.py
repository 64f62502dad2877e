"""zerodowntime.acme.account against Pebble 2.10: create, contacts, external account binding, key
rollover, deactivation; and the certificate module reusing the account instead of making another."""

from __future__ import annotations

import os
import re

from .conftest import EAB_HMAC_KEY, EAB_KID, fqdn, run_module

MODULE = "zerodowntime.acme.account"


def _args(testbed, key: str, **extra) -> dict:
    base = dict(directory_url=testbed.pebble.directory_url, ca_bundle=testbed.pebble.ca_bundle,
                account_key=os.path.join(testbed.state, "accounts", key))
    base.update(extra)
    return base


def _accounts_at_pebble(testbed) -> int:
    """The number of accounts Pebble holds, from the line it logs at each creation."""
    with open(testbed.pebble.log_path, encoding="utf-8", errors="replace") as f:
        counts = [int(m.group(1)) for m in re.finditer(r"There are now (\d+) accounts in memory", f.read())]
    return counts[-1] if counts else 0


def test_create_then_nothing_to_do(testbed):
    args = _args(testbed, "create.pem", account_email="ops@zdt.test", terms_agreed=True)
    check = run_module(args, module=MODULE, check=True, diff=True)
    assert check["changed"] and check["actions"] == ["created"] and check["status"] == "valid"
    assert not os.path.exists(args["account_key"]), "check mode wrote the account key"

    created = run_module(args, module=MODULE)
    assert created["changed"] and created["actions"] == ["created"]
    assert created["account_url"].startswith("https://127.0.0.1:14000/my-account/")
    assert created["contacts"] == ["mailto:ops@zdt.test"]
    assert oct(os.stat(args["account_key"]).st_mode & 0o777) == "0o600"

    again = run_module(args, module=MODULE)
    assert not again["changed"] and again["actions"] == [] and again["account_url"] == created["account_url"]


def test_contacts_are_updated_and_cleared(testbed):
    args = _args(testbed, "contacts.pem", account_email="old@zdt.test", terms_agreed=True)
    url = run_module(args, module=MODULE)["account_url"]

    new = dict(args, account_email="new@zdt.test")
    check = run_module(new, module=MODULE, check=True, diff=True)
    assert check["changed"] and check["actions"] == ["contacts updated"]
    assert check["diff"]["before"]["contacts"] == ["mailto:old@zdt.test"]
    assert check["diff"]["after"]["contacts"] == ["mailto:new@zdt.test"]
    assert run_module(args, module=MODULE)["contacts"] == ["mailto:old@zdt.test"], "check mode changed the CA"

    updated = run_module(new, module=MODULE)
    assert updated["changed"] and updated["contacts"] == ["mailto:new@zdt.test"] and updated["account_url"] == url
    assert not run_module(new, module=MODULE)["changed"]
    # Without account_email the contacts stay; an empty one removes them.
    assert not run_module(dict(args, account_email=None), module=MODULE)["changed"]
    cleared = run_module(dict(args, account_email=""), module=MODULE)
    assert cleared["changed"] and cleared["contacts"] == []


def test_a_new_account_needs_the_terms(testbed):
    result = run_module(_args(testbed, "noterms.pem"), module=MODULE)
    assert result["failed"] and "terms_agreed=true" in result["msg"]


def test_external_account_binding(testbed):
    raw: list[str] = []
    bound = run_module(_args(testbed, "eab.pem", terms_agreed=True, eab_kid=EAB_KID, eab_hmac_key=EAB_HMAC_KEY),
                       module=MODULE, raw=raw)
    assert bound["changed"] and bound["status"] == "valid"
    assert EAB_HMAC_KEY not in raw[0], "the HMAC key appeared in ansible's output"

    wrong = "A" * len(EAB_HMAC_KEY)
    refused = run_module(_args(testbed, "eab-wrong.pem", terms_agreed=True, eab_kid=EAB_KID, eab_hmac_key=wrong),
                         module=MODULE, raw=raw)
    assert refused["failed"] and "creating the ACME account failed" in refused["msg"]
    assert wrong not in raw[1]

    unknown = run_module(_args(testbed, "eab-kid.pem", terms_agreed=True, eab_kid="nobody", eab_hmac_key=EAB_HMAC_KEY),
                         module=MODULE)
    assert unknown["failed"] and "creating the ACME account failed" in unknown["msg"]

    half = run_module(_args(testbed, "eab-half.pem", terms_agreed=True, eab_kid=EAB_KID), module=MODULE)
    assert half["failed"] and "eab_hmac_key" in half["msg"]


def test_key_rollover_keeps_the_account_and_account_key_holds_the_new_key(testbed):
    args = _args(testbed, "roll.pem", terms_agreed=True)
    url = run_module(args, module=MODULE)["account_url"]
    old_key = open(args["account_key"], "rb").read()
    new_key_path = os.path.join(testbed.state, "accounts", "roll-next.pem")
    roll = dict(args, new_account_key=new_key_path)

    check = run_module(roll, module=MODULE, check=True)
    assert check["changed"] and check["actions"] == ["key rolled over"]
    assert not os.path.exists(new_key_path) and open(args["account_key"], "rb").read() == old_key

    rolled = run_module(roll, module=MODULE, diff=True)
    assert rolled["changed"] and rolled["actions"] == ["key rolled over"] and rolled["account_url"] == url
    assert rolled["diff"]["before"]["key"] != rolled["diff"]["after"]["key"]
    new_key = open(new_key_path, "rb").read()
    assert open(args["account_key"], "rb").read() == new_key
    assert oct(os.stat(args["account_key"]).st_mode & 0o777) == "0o600"
    assert not run_module(roll, module=MODULE)["changed"]

    # The CA knows the account by the new key only: the old key finds nothing.
    old_path = os.path.join(testbed.state, "accounts", "roll-old.pem")
    with open(os.open(old_path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(old_key)
    old = run_module(_args(testbed, "roll-old.pem"), module=MODULE, check=True)
    assert old["failed"] and "no ACME account exists for this account key" in old["msg"]


def test_an_interrupted_rollover_is_finished_by_the_next_run(testbed):
    args = _args(testbed, "interrupted.pem", terms_agreed=True)
    url = run_module(args, module=MODULE)["account_url"]
    old_key = open(args["account_key"], "rb").read()
    roll = dict(args, new_account_key=os.path.join(testbed.state, "accounts", "interrupted-next.pem"))
    assert run_module(roll, module=MODULE)["changed"]
    # As if the run had stopped after the CA accepted the new key, before account_key was written.
    with open(args["account_key"], "wb") as f:
        f.write(old_key)

    finished = run_module(roll, module=MODULE)
    assert finished["changed"] and finished["actions"] == ["key file replaced"] and finished["account_url"] == url
    assert open(args["account_key"], "rb").read() == open(roll["new_account_key"], "rb").read()
    assert not run_module(roll, module=MODULE)["changed"]


def test_deactivation(testbed):
    args = _args(testbed, "bye.pem", terms_agreed=True)
    run_module(args, module=MODULE)
    absent = dict(args, state="absent")
    check = run_module(absent, module=MODULE, check=True)
    assert check["changed"] and check["actions"] == ["deactivated"]
    assert run_module(args, module=MODULE, check=True)["status"] == "valid", "check mode deactivated it"

    gone = run_module(absent, module=MODULE)
    assert gone["changed"] and gone["status"] == "deactivated"
    assert not run_module(absent, module=MODULE)["changed"]

    again = run_module(args, module=MODULE)
    assert again["failed"] and "deactivated" in again["msg"] and "new account_key" in again["msg"]
    certificate = run_module(testbed.args("reuse", account_key=args["account_key"]))
    assert certificate["failed"] and "deactivated" in certificate["msg"]


def test_a_missing_key_with_state_absent_is_nothing_to_do(testbed):
    args = _args(testbed, "never.pem", state="absent")
    result = run_module(args, module=MODULE)
    assert not result["changed"] and result["status"] == "absent"
    assert not os.path.exists(args["account_key"])


def test_the_certificate_module_reuses_the_account(testbed):
    args = _args(testbed, "shared.pem", terms_agreed=True)
    url = run_module(args, module=MODULE)["account_url"]
    before = _accounts_at_pebble(testbed)
    for label in ("reuse", "reuse"):
        result = run_module(testbed.args(label, account_key=args["account_key"], force=True))
        assert result["changed"], result.get("msg")
    meta = open(os.path.join(testbed.state, "live", fqdn("reuse"), "meta.json")).read()
    assert f'"account_url": "{url}"' in meta
    assert _accounts_at_pebble(testbed) == before, "the certificate module created another account"


def test_a_ca_that_drops_contacts_does_not_make_every_run_a_change(testbed, proxy):
    # Let's Encrypt stores no contact addresses since 2025: its account objects come back without
    # them, whatever was sent. The proxy plays that in front of Pebble (which still stores them).
    import json

    from tools.testbed.hostile import Rule, Upstream, rewrite

    def drop_contacts(upstream: Upstream, exchange) -> Upstream:
        try:
            body = json.loads(upstream.body)
        except ValueError:
            return upstream
        if isinstance(body, dict) and "contact" in body:
            del body["contact"]
            return Upstream(upstream.status, upstream.headers, json.dumps(body).encode())
        return upstream

    proxy.rules = [Rule("POST", path, rewrite(drop_contacts), times=99) for path in ("/sign-me-up", "/my-account/")]
    args = dict(_args(testbed, "dropped.pem", account_email="ops@zdt.test", terms_agreed=True),
                directory_url=proxy.directory_url)
    created = run_module(args, module=MODULE)
    assert created["changed"] and created["actions"] == ["created"], created.get("msg")
    again = run_module(args, module=MODULE)
    assert again["changed"] is False and again["actions"] == [], again
    assert again["contacts"] == []  # what the CA really answers
    moved = run_module(dict(args, account_email="noc@zdt.test"), module=MODULE)
    assert moved["changed"] and moved["actions"] == ["contacts updated"]
    assert run_module(dict(args, account_email="noc@zdt.test"), module=MODULE)["changed"] is False
