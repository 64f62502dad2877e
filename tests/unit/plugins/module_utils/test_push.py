"""A pool's issuer pushing from cron: tests plugins/module_utils/push.py.

`ssh` is a stand-in on PATH that records what it was asked and answers as the member's forced
command would; the real channel (sshd, authorized_keys, receive) runs in the Molecule `pool` scenario.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import install, lineage, push, settings, times, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec, validated
from tests.unit.conftest import make_cert

MEMBERS = [{"host": "web2", "address": "127.0.0.52"}, {"host": "web3", "address": "127.0.0.53"}]


@pytest.fixture
def ssh(tmp_path, monkeypatch):
    """A fake ssh: logs argv and the bundle; exits 255 for the addresses listed in ssh-down."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "ssh-log"
    down = tmp_path / "ssh-down"
    down.write_text("")
    script = bin_dir / "ssh"
    script.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        for last; do :; done
        target=$(for a; do case $a in root@*) echo ${{a#root@}};; esac; done)
        if grep -qx "$target" {down}; then echo "ssh: connect to host $target port 22: Connection refused" >&2; exit 255; fi
        printf '%s\\n' "$*" >> {log}
        cat > /dev/null
        """))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return log, down


def _spec(tmp_path):
    (tmp_path / "www").mkdir(exist_ok=True)
    return validated(CertificateSpec.from_options({
        "domains": ["pool.example"], "name": "pool", "webroot": str(tmp_path / "www"),
        "cert_dir": str(tmp_path / "live"), "directory_url": "https://ca.example/dir", "members": MEMBERS}))


def _issue(tmp_path):
    key, chain = make_cert(["pool.example"])
    versions.write(str(tmp_path / "live"), "pool", key, chain, {"directory_url": "https://ca.example/dir"})


CHANNEL = settings.Channel(host="web1", identity="/etc/zerodowntime-acme/push/id_ed25519",
                           known_hosts="/etc/zerodowntime-acme/push/known_hosts", bind_address="127.0.0.51", port=2222)


def test_each_member_gets_each_version_once(tmp_path, ssh):
    log = ssh[0]
    spec = _spec(tmp_path)
    _issue(tmp_path)
    first = push.deliver(str(tmp_path), [spec], CHANNEL, times.now())
    assert [(d.member, d.error) for d in first] == [("web2", None), ("web3", None)]
    assert push.deliver(str(tmp_path), [spec], CHANNEL, times.now()) == []
    _issue(tmp_path)  # a renewal
    assert [d.member for d in push.deliver(str(tmp_path), [spec], CHANNEL, times.now())] == ["web2", "web3"]
    assert len(log.read_text().splitlines()) == 4
    assert oct(os.stat(tmp_path / push.STATE_FILE).st_mode & 0o777) == "0o600"


def test_the_channel_is_pinned_bound_and_runs_only_receive(tmp_path, ssh):
    log = ssh[0]
    _issue(tmp_path)
    push.deliver(str(tmp_path), [_spec(tmp_path)], CHANNEL, times.now())
    call = log.read_text().splitlines()[0]
    for part in ("-i /etc/zerodowntime-acme/push/id_ed25519", "-p 2222", "BatchMode=yes", "StrictHostKeyChecking=yes",
                 "UserKnownHostsFile=/etc/zerodowntime-acme/push/known_hosts", "BindAddress=127.0.0.51",
                 "root@127.0.0.52 zerodowntime-acme receive"):
        assert part in call


def test_a_member_that_was_down_is_pending_until_a_later_run_delivers(tmp_path, ssh):
    down = ssh[1]
    spec = _spec(tmp_path)
    _issue(tmp_path)
    down.write_text("127.0.0.53\n")
    result = push.deliver(str(tmp_path), [spec], CHANNEL, times.now())
    assert result[0].error is None
    assert "web3 (127.0.0.53) did not take it (exit 255)" in result[1].error
    assert "Connection refused" in result[1].error
    assert push.pending(str(tmp_path), spec) == ["web3"]
    assert [d.member for d in push.deliver(str(tmp_path), [spec], CHANNEL, times.now())] == ["web3"]  # still down
    down.write_text("")
    assert [(d.member, d.error) for d in push.deliver(str(tmp_path), [spec], CHANNEL, times.now())] == [("web3", None)]
    assert push.pending(str(tmp_path), spec) == []


def test_a_placeholder_is_never_sent(tmp_path, ssh):
    log = ssh[0]
    key, chain = make_cert(["pool.example"], self_signed=True)
    versions.write(str(tmp_path / "live"), "pool", key, chain, {})
    assert push.deliver(str(tmp_path), [_spec(tmp_path)], CHANNEL, times.now()) == []
    assert not log.exists()


def test_a_corrupt_state_file_means_send_again(tmp_path, ssh):
    spec = _spec(tmp_path)
    _issue(tmp_path)
    (tmp_path / push.STATE_FILE).write_text(json.dumps({"pool": {"web2": "yes", "web3": {"sha256": 7}}}))
    assert push.pending(str(tmp_path), spec) == ["web2", "web3"]
    assert len(push.deliver(str(tmp_path), [spec], CHANNEL, times.now())) == 2


def test_what_is_sent_is_a_bundle_the_member_can_check(tmp_path):
    _issue(tmp_path)
    bundle = install.export(str(tmp_path / "live"), "pool", "web1")
    again = install.Bundle.from_json(bundle.to_json())
    assert again.name == "pool" and again.issuer == "web1" and "PRIVATE KEY" in again.privkey


def test_each_member_shows_the_serial_it_has_even_after_a_failed_attempt(tmp_path, ssh):
    down = ssh[1]
    spec = _spec(tmp_path)
    _issue(tmp_path)
    first = lineage.read(str(tmp_path / "live"), "pool").cert.serial
    push.deliver(str(tmp_path), [spec], CHANNEL, times.now())
    _issue(tmp_path)  # a renewal, and web3 is down for it
    second = lineage.read(str(tmp_path / "live"), "pool").cert.serial
    down.write_text("127.0.0.53\n")
    push.deliver(str(tmp_path), [spec], CHANNEL, times.now())
    push.deliver(str(tmp_path), [spec], CHANNEL, times.now())  # still down: what it has stays known
    states = {m.host: m for m in push.members(str(tmp_path), spec)}
    assert (states["web2"].serial, states["web2"].current, states["web2"].error) == (second, True, None)
    assert (states["web3"].serial, states["web3"].current) == (first, False)
    assert "Connection refused" in states["web3"].error


def test_the_metrics_show_each_member_and_its_serial(tmp_path, ssh):
    from ansible_collections.zerodowntime.acme.plugins.module_utils import metrics

    down = ssh[1]
    spec = _spec(tmp_path)
    _issue(tmp_path)
    down.write_text("127.0.0.53\n")
    push.deliver(str(tmp_path), [spec], CHANNEL, times.now())
    serial = lineage.read(str(tmp_path / "live"), "pool").cert.serial
    text = metrics.render([], {}, run_at=times.now(), success=True,
                          members={"pool": push.members(str(tmp_path), spec)})
    assert f'zerodowntime_acme_pool_member_current{{name="pool",member="web2",serial="{serial}"}} 1' in text
    assert 'zerodowntime_acme_pool_member_current{name="pool",member="web3",serial=""} 0' in text


def test_only_the_channels_own_ssh_options_apply_and_the_member_knows_the_sender(tmp_path, ssh):
    """No ssh_config (-F /dev/null), no system-wide known hosts, the host key looked up under the
    member's name; the forced command names the issuer (issue 19)."""
    log = ssh[0]
    _issue(tmp_path)
    push.deliver(str(tmp_path), [_spec(tmp_path)], CHANNEL, times.now())
    call = log.read_text().splitlines()[0].split(" ")
    assert call[:2] == ["-F", "/dev/null"]
    for option in ("GlobalKnownHostsFile=/dev/null", "HostKeyAlias=web2", "CheckHostIP=no", "UpdateHostKeys=no"):
        assert option in call
    assert call[-5:] == ["root@127.0.0.52", "zerodowntime-acme", "receive", "--issuer", "web1"]


def _answering(tmp_path, monkeypatch, body: str) -> None:
    """ssh stand-in that reads the bundle, then runs `body` (its answer and exit code)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "ssh"
    script.write_text(f"#!/bin/sh\ncat > /dev/null\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


def test_a_member_that_installed_it_but_whose_hook_failed_counts_as_delivered(tmp_path, monkeypatch):
    _answering(tmp_path, monkeypatch, "echo 'pool: a new certificate from web1'; "
                                      "echo 'deploy hook of pool FAILED (pool), tried again next run: exit code 1'; "
                                      f"exit {push.INSTALLED_FOLLOWUPS_FAILED}")
    spec = _spec(tmp_path)
    _issue(tmp_path)
    done = push.deliver(str(tmp_path), [spec], CHANNEL, times.now())
    assert [(d.member, d.error) for d in done] == [("web2", None), ("web3", None)]
    assert "deploy hook of pool FAILED" in done[0].followup_error
    assert push.pending(str(tmp_path), spec) == []  # not pushed again at every run
    assert push.deliver(str(tmp_path), [spec], CHANNEL, times.now()) == []
    states = push.members(str(tmp_path), spec)
    assert states[0].current and "FAILED" in states[0].followup_error


def test_a_members_endless_or_hostile_answer_is_cut_to_one_clean_line(tmp_path, monkeypatch):
    """200 MB of output once took the issuer to 607 MB; a 2 MB error line made delivered.json too big
    to read back, so every member was pushed again at every run (issue 19)."""
    _answering(tmp_path, monkeypatch, "head -c 20000000 /dev/zero | tr '\\0' 'x'; "
                                      "printf '\\n%s\\033[2J\\033]0;owned\\007\\n' \"$(head -c 2000000 /dev/zero | tr '\\0' 'y')\"; "
                                      "exit 1")
    spec = _spec(tmp_path)
    _issue(tmp_path)
    done = push.deliver(str(tmp_path), [spec], CHANNEL, times.now())
    for delivery in done:
        assert len(delivery.error) <= push.MAX_ANSWER + 200
        assert "\x1b" not in delivery.error and "\x07" not in delivery.error and "\\x1b" in delivery.error
    assert os.path.getsize(tmp_path / push.STATE_FILE) < 10000
    assert [m.error is not None for m in push.members(str(tmp_path), spec)] == [True, True]  # it reads back


@pytest.mark.parametrize("entry", [
    {"sha256": "../../x", "serial": "1", "at": "2026-11-29T12:00:00Z"},
    {"sha256": "a" * 64, "serial": "1\nforged", "at": "2026-11-29T12:00:00Z"},
    {"sha256": "a" * 64, "serial": "1", "at": "0001-01-01T00:00:00+14:00"},
    {"sha256": "a" * 64, "serial": "1", "at": 5},
    [1, 2], "yes", None,
])
def test_an_entry_of_delivered_json_that_makes_no_sense_is_dropped(tmp_path, ssh, entry):
    spec = _spec(tmp_path)
    _issue(tmp_path)
    (tmp_path / push.STATE_FILE).write_text(json.dumps({"pool": {"web2": entry}}))
    assert push.members(str(tmp_path), spec)[0].serial is None
    assert push.pending(str(tmp_path), spec) == ["web2", "web3"]


def test_a_stored_error_is_shown_clean_however_it_was_written(tmp_path, ssh):
    spec = _spec(tmp_path)
    _issue(tmp_path)
    sha = __import__("hashlib").sha256(lineage.read(str(tmp_path / "live"), "pool").pem).hexdigest()
    (tmp_path / push.STATE_FILE).write_text(json.dumps({"pool": {"web2": {
        "sha256": sha, "serial": "1", "at": "2026-11-29T12:00:00Z", "error": "x\n\x1b[2Jforged" + "z" * 5000}}}))
    error = push.members(str(tmp_path), spec)[0].error
    assert "\n" not in error and "\x1b" not in error and len(error) <= push.MAX_ANSWER + 200
