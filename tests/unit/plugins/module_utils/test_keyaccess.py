"""Who may read the private key: tests plugins/module_utils/keyaccess.py and its use in lineage.py
(the key files get their access before the swap, every version keeps it, drift is put right)."""

from __future__ import annotations

import grp
import os
import stat

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import keyaccess, lineage, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError, StorageError
from tests.unit.conftest import make_cert

NOGROUP = grp.getgrnam("nogroup").gr_gid  # Debian's; any host the tests run on has it


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("text, bits", [(None, 0o600), ("0600", 0o600), ("0640", 0o640), ("640", 0o640),
                                        ("0400", 0o400), ("0660", 0o660)])
def test_modes_for_owner_and_group_are_taken(text, bits):
    assert keyaccess.parse_mode(text) == bits


@pytest.mark.parametrize("text", ["0644", "0604", "0666", "0601"])
def test_a_world_readable_key_mode_is_refused_with_the_way_out(text):
    with pytest.raises(ConfigError, match="lets every user of the host read or change the private key; give access "
                                          "through key_group"):
        keyaccess.parse_mode(text)


@pytest.mark.parametrize("text", ["0200", "0700", "0750", "4640", "rw-r-----", "0o640", 640, ""])
def test_other_odd_modes_are_refused(text):
    with pytest.raises(ConfigError, match="key_mode"):
        keyaccess.parse_mode(text)


@pytest.mark.parametrize("value", ["ssl-cert", "postfix", "_dovecot", "65534", None])
def test_account_names_of_the_host_syntax(value):
    keyaccess.check_account("key_group", value)


@pytest.mark.parametrize("value", ["ssl cert", "root;id", "$(id)", "a" * 40, "Group", ""])
def test_account_names_with_odd_characters_are_refused(value):
    with pytest.raises(ConfigError, match="key_group must be a user or group name"):
        keyaccess.check_account("key_group", value)


def test_an_unknown_group_is_refused_before_anything_else():
    with pytest.raises(ConfigError, match="key_group 'zdt-no-such-group': this host has no such group"):
        keyaccess.resolve(None, "zdt-no-such-group", "0640")


def test_names_and_numbers_resolve():
    assert keyaccess.resolve("root", "nogroup", "0640") == keyaccess.Access(0, NOGROUP, 0o640)
    assert keyaccess.resolve(None, str(NOGROUP), None) == keyaccess.Access(-1, NOGROUP, 0o600)


def test_the_key_has_its_group_and_mode_before_the_swap(tmp_path, monkeypatch):
    """At the moment the link turns, the new version's key files already have their access."""
    access = keyaccess.Access(-1, NOGROUP, 0o640)
    seen = {}
    swap = versions._swap_link

    def watching_swap(link, target):
        folder = os.path.join(os.path.dirname(link), target)
        for filename in ("privkey.pem", "combined.pem"):
            info = os.stat(os.path.join(folder, filename))
            seen[filename] = (info.st_gid, stat.S_IMODE(info.st_mode))
        swap(link, target)

    monkeypatch.setattr(versions, "_swap_link", watching_swap)
    key, chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, chain, {}, access=access, combined=True)
    assert seen == {"privkey.pem": (NOGROUP, 0o640), "combined.pem": (NOGROUP, 0o640)}
    assert _mode(tmp_path / "a" / "cert.pem") == 0o644


def test_combined_holds_key_then_leaf_then_chain(tmp_path):
    key, chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, chain, {}, combined=True)
    folder = tmp_path / "a"
    assert (folder / "combined.pem").read_bytes() == key + (folder / "fullchain.pem").read_bytes()
    assert (folder / "combined.pem").read_bytes().index(b"PRIVATE KEY") < \
        (folder / "combined.pem").read_bytes().index(b"BEGIN CERTIFICATE")
    assert _mode(folder / "combined.pem") == 0o600


def test_drift_is_put_right_in_every_version_and_reported(tmp_path):
    key, chain = make_cert(["a.example"])
    for _round in range(2):
        versions.write(str(tmp_path), "a", key, chain, {})
    access = keyaccess.Access(-1, NOGROUP, 0o640)
    numbers = sorted(os.listdir(tmp_path / ".versions" / "a"))
    assert lineage.keep_access(str(tmp_path), "a", access, False, dry_run=True) == [
        f"version {v} privkey.pem: group root -> nogroup, mode 0600 -> 0640" for v in numbers]
    assert _mode(tmp_path / "a" / "privkey.pem") == 0o600  # a dry run changes nothing
    assert len(lineage.keep_access(str(tmp_path), "a", access, False)) == 2
    for version in numbers:
        info = os.stat(tmp_path / ".versions" / "a" / version / "privkey.pem")
        assert (info.st_gid, stat.S_IMODE(info.st_mode)) == (NOGROUP, 0o640)
    assert lineage.keep_access(str(tmp_path), "a", access, False) == []  # nothing left to do
    os.chmod(tmp_path / "a" / "privkey.pem", 0o644)  # someone's chmod
    assert lineage.keep_access(str(tmp_path), "a", access, False) == [
        f"version {numbers[-1]} privkey.pem: mode 0644 -> 0640"]


def test_combined_turned_on_is_written_from_the_live_version_and_off_removes_it(tmp_path):
    key, chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, chain, {})
    live = os.path.realpath(tmp_path / "a")
    access = keyaccess.Access(-1, NOGROUP, 0o640)
    assert lineage.keep_access(str(tmp_path), "a", access, True) == [
        f"version {os.path.basename(live)} privkey.pem: group root -> nogroup, mode 0600 -> 0640",
        f"version {os.path.basename(live)}: combined.pem written"]
    combined = tmp_path / "a" / "combined.pem"
    assert combined.read_bytes() == key + (tmp_path / "a" / "fullchain.pem").read_bytes()
    assert (os.stat(combined).st_gid, _mode(combined)) == (NOGROUP, 0o640)
    assert lineage.keep_access(str(tmp_path), "a", access, False) == [
        f"version {os.path.basename(live)}: combined.pem removed (combined is off)"]
    assert not combined.exists()


def test_a_link_planted_for_a_key_file_is_not_followed(tmp_path):
    key, chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, chain, {})
    target = tmp_path / "elsewhere"
    target.write_text("not a key")
    os.chmod(target, 0o600)
    planted = tmp_path / "a" / "combined.pem"
    os.symlink(target, planted)
    with pytest.raises(StorageError, match="combined.pem is a symbolic link, which the engine never follows"):
        keyaccess.repair(str(planted), keyaccess.Access(-1, NOGROUP, 0o640))
    assert _mode(target) == 0o600 and os.stat(target).st_gid != NOGROUP


def test_a_new_group_never_gets_more_than_both_modes_allow(tmp_path, monkeypatch):
    """From a group-writable 0660 to 0600 under another group: at the chown the mode is 0600 already."""
    path = tmp_path / "privkey.pem"
    path.write_text("key")
    os.chmod(path, 0o660)
    seen = []
    chown = os.fchown

    def watching_chown(fd, uid, gid):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        chown(fd, uid, gid)

    monkeypatch.setattr(os, "fchown", watching_chown)
    assert keyaccess.repair(str(path), keyaccess.Access(-1, NOGROUP, 0o600)) == [
        "privkey.pem: group root -> nogroup, mode 0660 -> 0600"]
    assert seen == [0o600] and _mode(path) == 0o600
