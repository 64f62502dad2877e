"""A pool's issuer pushing from cron: tests plugins/module_utils/push.py.

`ssh` is a stand-in on PATH that records what it was asked and answers as the member's forced
command would; the real channel (sshd, authorized_keys, receive) runs in the Molecule `pool` scenario.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import install, lineage, push, times, versions
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


CHANNEL = push.Channel(host="web1", identity="/etc/zerodowntime-acme/push/id_ed25519",
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


BAD_CHANNELS = [[], {"host": "web1"}, {"host": "web1", "identity": "k", "known_hosts": "h", "port": "22"}]


@pytest.mark.parametrize("config", BAD_CHANNELS)
def test_a_bad_channel_config_is_a_config_error(config):
    with pytest.raises(push.ConfigError):
        push.Channel.from_config(config)


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
