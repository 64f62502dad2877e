"""zerodowntime.acme.certificate, run through `ansible`, against a real Pebble and a real nginx."""

from __future__ import annotations

import datetime
import json
import os
import socket
import ssl
import stat
import subprocess

import pytest
from cryptography import x509

from tools.testbed.procs import wait_for_port

from .conftest import ADDRESS, PEBBLE_ONLY, ROOT, ansible_env, fqdn, run_module


def _leaf(path: str) -> x509.Certificate:
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def _challenge_files(testbed) -> list[str]:
    folder = os.path.join(testbed.webroot, ".well-known", "acme-challenge")
    return os.listdir(folder) if os.path.isdir(folder) else []


def test_first_run_issues_a_certificate_that_verifies_and_is_served(testbed):
    result = run_module(testbed.args("a"))
    assert result["changed"] is True, result
    assert result["reason"] == "no certificate exists yet"
    assert result["domains"] == [fqdn("a")]
    paths = result["paths"]
    assert stat.S_IMODE(os.stat(paths["privkey"]).st_mode) == 0o600
    leaf = _leaf(paths["cert"])
    assert format(leaf.serial_number, "x") == result["serial"]
    assert _challenge_files(testbed) == []

    # The chain verifies against Pebble's root, fetched from its management API.
    root = os.path.join(testbed.state, "pebble-root.pem")
    with open(root, "wb") as f:
        f.write(testbed.pebble.root_pem())
    verify = subprocess.run(["openssl", "verify", "-CAfile", root, "-untrusted", paths["chain"], paths["cert"]],
                            capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # And nginx serves it over HTTPS, trusted through that root.
    with open(os.path.join(testbed.nginx.sites, "a.conf"), "w") as f:
        f.write(f"server {{ listen {ADDRESS}:443 ssl; server_name {fqdn('a')}; "
                f"ssl_certificate {paths['fullchain']}; ssl_certificate_key {paths['privkey']}; "
                "location / { return 200 'ok'; } }\n")
    testbed.nginx.reload()
    wait_for_port(ADDRESS, 443)
    context = ssl.create_default_context(cafile=root)
    with socket.create_connection((ADDRESS, 443), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=fqdn("a")) as tls:
            served = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    assert served.serial_number == leaf.serial_number


def test_second_run_changes_nothing_and_sends_no_request(testbed):
    first = run_module(testbed.args("a"))  # issued by the test above, or now when run alone
    requests_before = testbed.pebble.request_count()
    second = run_module(testbed.args("a"))
    assert second["changed"] is False, second
    assert second["reason"].startswith("not due: ")
    assert second["serial"] == first["serial"]
    assert second["renew_at"] and second["not_after"]
    assert testbed.pebble.request_count() == requests_before


def test_check_mode_predicts_and_touches_nothing(testbed):
    args = testbed.args("check")
    requests_before = testbed.pebble.request_count()
    predicted = run_module(args, check=True, diff=True)
    assert predicted["changed"] is True and predicted["reason"] == "no certificate exists yet"
    assert predicted["diff"]["after"]["domains"] == [fqdn("check")]
    assert not os.path.exists(os.path.join(testbed.state, "live", fqdn("check")))
    assert testbed.pebble.request_count() == requests_before

    run_module(args)
    assert run_module(args, check=True)["changed"] is False


def test_diff_mode_shows_names_and_expiry(testbed):
    run_module(testbed.args("b", name="diff"))
    changed = run_module(testbed.args("b", name="diff", domains=[fqdn("b"), fqdn("b2")]), diff=True)
    assert changed["diff"]["before"]["domains"] == [fqdn("b")]
    assert changed["diff"]["after"]["domains"] == [fqdn("b"), fqdn("b2")]
    assert changed["diff"]["after"]["not_after"] == changed["not_after"]


def test_a_change_of_names_reissues(testbed):
    first = run_module(testbed.args("b", name="names"))
    assert first["domains"] == [fqdn("b")]
    wider = run_module(testbed.args("b", name="names", domains=[fqdn("b"), fqdn("b2")]))
    assert wider["changed"] is True and wider["reason"] == f"the names changed: adds {fqdn('b2')}"
    assert sorted(wider["domains"]) == sorted([fqdn("b"), fqdn("b2")])
    # Same set, other order and case: nothing to do.
    again = run_module(testbed.args("b", name="names", domains=[fqdn("b2").upper(), fqdn("b")]))
    assert again["changed"] is False, again["reason"]


def test_a_change_of_key_type_reissues(testbed):
    run_module(testbed.args("key"))
    rsa = run_module(testbed.args("key", key_type="rsa2048"))
    assert rsa["changed"] is True and "key type changed from ec256 to rsa2048" in rsa["reason"]
    assert _leaf(rsa["paths"]["cert"]).public_key().key_size == 2048


def test_force_reissues_and_keeps_the_previous_version(testbed):
    first = run_module(testbed.args("force"))
    forced = run_module(testbed.args("force", force=True))
    assert forced["changed"] is True and "forced" in forced["reason"]
    assert forced["serial"] != first["serial"]
    versions = os.path.join(testbed.state, "live", ".versions", fqdn("force"))
    assert len(os.listdir(versions)) == 2


def test_ad_hoc_deploy_hook_runs_on_issue_only(testbed):
    marker = os.path.join(testbed.state, "hook-runs")
    args = (f"domains={fqdn('hook')} webroot={testbed.webroot} cert_dir={testbed.state}/live "
            f"account_key={testbed.state}/account.pem directory_url={testbed.pebble.directory_url} "
            f"ca_bundle={testbed.pebble.ca_bundle} terms_agreed=true "
            f"deploy_hook='echo $RENEWED_DOMAINS >> {marker} && {testbed.nginx.command()}'")
    for expected in ("CHANGED", "SUCCESS"):
        done = subprocess.run(["ansible", "localhost", "-m", "zerodowntime.acme.certificate", "-a", args],
                              env=ansible_env(), capture_output=True, text=True, cwd=ROOT, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"localhost | {expected}" in done.stdout
    with open(marker) as f:
        assert f.read() == fqdn("hook") + "\n"


def test_failing_deploy_hook_fails_the_task_keeps_the_new_certificate_and_runs_again_until_it_succeeds(testbed):
    result = run_module(testbed.args("hookfail", deploy_hook="echo broken >&2; exit 3"))
    assert result.get("failed") is True
    assert "exit code 3" in result["msg"] and result["stderr"].strip() == "broken"
    assert os.path.exists(result["paths"]["fullchain"])
    assert run_module(testbed.args("hookfail"))["changed"] is False  # without the hook: nothing to do
    marker = os.path.join(testbed.state, "hookfail-ran")
    fixed = run_module(testbed.args("hookfail", deploy_hook=f"echo $RENEWED_DOMAINS > {marker}"))
    assert fixed["changed"] is True and fixed["hooks"] == [f"deploy hook of {fqdn('hookfail')}"]
    assert fixed["serial"] == result["serial"] and "not due" in fixed["reason"]  # no new order: only the hook
    with open(marker) as f:
        assert f.read() == fqdn("hookfail") + "\n"
    again = run_module(testbed.args("hookfail", deploy_hook=f"echo $RENEWED_DOMAINS > {marker}"))
    assert again["changed"] is False and "hooks" not in again


def test_check_mode_lists_what_a_new_certificate_would_run_and_runs_nothing(testbed):
    marker = os.path.join(testbed.state, "hookcheck-ran")
    result = run_module(testbed.args("hookcheck", deploy_hook=f"touch {marker}", reload_services=["zdt-none"]),
                        check=True)
    assert result["changed"] is True, result
    assert result["hooks"] == ["reload zdt-none", f"deploy hook of {fqdn('hookcheck')}"]
    assert not os.path.exists(marker)
    assert not os.path.exists(os.path.join(testbed.state, "live", fqdn("hookcheck")))


def test_reload_services_with_shell_characters_fails_before_any_order(testbed):
    requests_before = testbed.pebble.request_count()
    result = run_module(testbed.args("badservice", reload_services=["nginx; touch /tmp/zdt-pwned"]))
    assert result.get("failed") is True
    assert "reload_services holds 'nginx; touch /tmp/zdt-pwned', which is not a systemd service name" in result["msg"]
    assert not os.path.exists(os.path.join(testbed.state, "live", fqdn("badservice")))
    assert testbed.pebble.request_count() == requests_before


def test_self_check_fails_before_the_ca_when_nginx_does_not_serve_the_webroot(testbed):
    unserved = os.path.join(testbed.state, "not-served")
    os.makedirs(unserved, exist_ok=True)
    result = run_module(testbed.args("wrongroot", webroot=unserved))
    assert result.get("failed") is True
    url_start = f"http://{fqdn('wrongroot')}/.well-known/acme-challenge/"
    assert url_start in result["msg"] and "HTTP 404" in result["msg"]
    assert "No failed validation" in result["msg"] or "no failed validation" in result["msg"]
    assert os.listdir(os.path.join(unserved, ".well-known", "acme-challenge")) == []


def test_self_check_only_warns_when_the_host_cannot_reach_itself(testbed):
    # Pebble resolves this name to nginx; this machine does not resolve it at all.
    result = run_module(testbed.args(PEBBLE_ONLY))
    assert result["changed"] is True, result
    assert any("does not resolve" in w for w in result.get("warnings", []))


@pytest.mark.parametrize("domains, words", [
    (["*.zdt.test"], "wildcard"),
    (["bad_name.zdt.test"], "not a valid DNS name"),
    ([("x" * 64) + ".zdt.test"], "not a valid DNS name"),
    ([".".join(["x" * 60] * 5)], "too long"),
    ([f"n{i}.zdt.test" for i in range(101)], "at most 100"),
    (["fe80::1%lo"], "zone"),
    ([], "empty"),
])
def test_bad_names_fail_before_any_order(testbed, domains, words):
    requests_before = testbed.pebble.request_count()
    result = run_module(testbed.args("a", domains=domains, name="bad"))
    assert result.get("failed") is True and words in result["msg"], result
    assert testbed.pebble.request_count() == requests_before


def test_missing_webroot_fails_before_any_order(testbed):
    requests_before = testbed.pebble.request_count()
    result = run_module(testbed.args("a", webroot="/nonexistent/webroot", name="bad"))
    assert result.get("failed") is True and "does not exist" in result["msg"]
    assert testbed.pebble.request_count() == requests_before


def test_terms_not_agreed_fails_when_an_account_must_be_created(testbed):
    args = testbed.args("terms", terms_agreed=False, account_key=os.path.join(testbed.state, "new-account.pem"))
    result = run_module(args)
    assert result.get("failed") is True
    assert "terms_agreed=true" in result["msg"] and "no ACME account exists" in result["msg"]
    assert not os.path.exists(result.get("paths", {}).get("cert", "/nonexistent"))


def test_terms_are_not_needed_for_an_existing_account(testbed):
    run_module(testbed.args("a"))  # makes sure the shared account exists
    result = run_module(testbed.args("terms", terms_agreed=False))
    assert result["changed"] is True, result


def test_invalid_account_key_fails_clearly(testbed):
    broken = os.path.join(testbed.state, "broken-account.pem")
    with open(broken, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    result = run_module(testbed.args("badkey", account_key=broken))
    assert result.get("failed") is True
    assert broken in result["msg"] and "not an unencrypted PEM private key" in result["msg"]


def test_unreadable_account_key_fails_clearly(testbed):
    result = run_module(testbed.args("dirkey", account_key=testbed.state))
    assert result.get("failed") is True
    assert f"cannot read the account key {testbed.state}" in result["msg"]


def test_renew_before_days_moves_the_renewal_date(testbed):
    # Named, since Pebble picks one of its profiles at random when an order names none.
    first = run_module(testbed.args("days", name="days", profile="default"))
    assert first["changed"] is True
    fixed = run_module(testbed.args("days", name="days", profile="default", renew_before_days=30))
    assert fixed["changed"] is False, fixed["reason"]
    # Due 30 days before expiry, or earlier when the point chosen in Pebble's ARI window comes first.
    expires = datetime.datetime.fromisoformat(fixed["not_after"].replace("Z", "+00:00"))
    thirty_before = (expires - datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(os.path.join(os.path.realpath(os.path.dirname(fixed["paths"]["cert"])), "ari.json")) as f:
        chosen = json.load(f)["chosen"]
    assert fixed["renew_at"] == min(thirty_before, chosen)
    if thirty_before < chosen:
        assert "due on" in fixed["reason"] and "(renew_before_days)" in fixed["reason"]
    # A window wider than the whole lifetime makes it due at once.
    wide = run_module(testbed.args("days", name="days", profile="default", renew_before_days=100))
    assert wide["changed"] is True and "renew_before_days is reached" in wide["reason"]
