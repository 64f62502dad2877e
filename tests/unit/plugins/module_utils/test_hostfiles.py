"""The roles' files in one pass: tests plugins/module_utils/hostfiles.py on a temporary tree."""

from __future__ import annotations

import os

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import hostfiles
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError
from ansible_collections.zerodowntime.acme.plugins.module_utils.hostfiles import Plan, ensure


def _plan(tmp_path, **changes):
    plan = Plan(
        directories=[{"path": str(tmp_path / "etc"), "mode": 0o700},
                     {"path": str(tmp_path / "www"), "mode": 0o755, "create_only": True}],
        files=[{"path": str(tmp_path / "etc" / "renew.json"), "content": "{}\n", "mode": 0o644},
               {"path": str(tmp_path / "etc" / "one.json"), "content": "1\n", "mode": 0o600}],
    )
    for name, value in changes.items():
        setattr(plan, name, value)
    return plan


def _mode(path):
    return oct(os.stat(path).st_mode & 0o777)


def test_the_first_run_writes_everything_and_the_second_nothing(tmp_path):
    first = ensure(_plan(tmp_path))
    assert first.changed == [str(tmp_path / p) for p in ("etc", "www", "etc/renew.json", "etc/one.json")]
    assert _mode(tmp_path / "etc") == "0o700" and _mode(tmp_path / "etc" / "one.json") == "0o600"
    assert (tmp_path / "etc" / "renew.json").read_text() == "{}\n"
    assert ensure(_plan(tmp_path)).changed == []


def test_a_changed_content_or_mode_is_written_again(tmp_path):
    ensure(_plan(tmp_path))
    (tmp_path / "etc" / "one.json").write_text("edited by hand\n")
    os.chmod(tmp_path / "etc" / "renew.json", 0o666)
    os.chmod(tmp_path / "etc", 0o755)
    assert ensure(_plan(tmp_path)).changed == [str(tmp_path / p) for p in ("etc", "etc/renew.json", "etc/one.json")]
    assert (tmp_path / "etc" / "one.json").read_text() == "1\n"
    assert _mode(tmp_path / "etc" / "renew.json") == "0o644" and _mode(tmp_path / "etc") == "0o700"


def test_an_existing_create_only_folder_keeps_its_mode(tmp_path):
    (tmp_path / "www").mkdir(mode=0o750)
    assert str(tmp_path / "www") not in ensure(_plan(tmp_path)).changed
    assert _mode(tmp_path / "www") == "0o750"


def test_a_link_planted_at_a_file_path_is_replaced_not_followed(tmp_path):
    ensure(_plan(tmp_path))
    target = tmp_path / "elsewhere"
    target.write_text("keep me\n")
    (tmp_path / "etc" / "one.json").unlink()
    (tmp_path / "etc" / "one.json").symlink_to(target)
    assert str(tmp_path / "etc" / "one.json") in ensure(_plan(tmp_path)).changed
    assert target.read_text() == "keep me\n"
    assert not (tmp_path / "etc" / "one.json").is_symlink()


def test_a_file_where_a_folder_belongs_is_a_clear_error(tmp_path):
    (tmp_path / "etc").write_text("")
    with pytest.raises(ConfigError, match="is not a folder"):
        ensure(_plan(tmp_path))


def test_check_mode_reports_and_writes_nothing(tmp_path):
    outcome = ensure(_plan(tmp_path, absent=[str(tmp_path / "old")]), check_mode=True)
    assert len(outcome.changed) == 4 and not (tmp_path / "etc").exists()


def test_absent_and_entries_removed_or_reported(tmp_path):
    ensure(_plan(tmp_path))
    old = tmp_path / "old-engine"
    old.mkdir()
    (old / "cli.py").write_text("")
    for name in ("one.json", "gone.json", "notes.txt"):
        (tmp_path / "etc" / name).write_text("x")
    plan = _plan(tmp_path, absent=[str(old), str(tmp_path / "never-there")],
                 entries=[{"path": str(tmp_path / "etc"), "pattern": "*.json", "keep": ["one.json", "renew.json"],
                           "remove": True},
                          {"path": str(tmp_path / "etc"), "pattern": "*.txt", "keep": []},
                          {"path": str(tmp_path / "nowhere"), "pattern": "*", "keep": []}])
    outcome = ensure(plan)
    assert str(old) in outcome.changed and not old.exists()
    assert str(tmp_path / "etc" / "gone.json") in outcome.changed and not (tmp_path / "etc" / "gone.json").exists()
    assert (tmp_path / "etc" / "one.json").read_text() == "1\n"  # rewritten by the plan, kept by the prune
    assert outcome.found == {str(tmp_path / "etc"): [str(tmp_path / "etc" / "notes.txt")],
                             str(tmp_path / "nowhere"): []}


def test_stat_reports_existence_and_sha256(tmp_path):
    ensure(_plan(tmp_path))
    outcome = ensure(_plan(tmp_path, stat=[str(tmp_path / "etc" / "renew.json"), str(tmp_path / "missing"),
                                           str(tmp_path / "etc")]))
    assert outcome.stat[str(tmp_path / "etc" / "renew.json")] == {
        "exists": True, "sha256": "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"}
    assert outcome.stat[str(tmp_path / "missing")] == {"exists": False}
    assert outcome.stat[str(tmp_path / "etc")] == {"exists": True, "sha256": None}


def test_packages_are_read_from_dpkg_status(tmp_path, monkeypatch):
    status = tmp_path / "status"
    status.write_text("Package: cron\nStatus: install ok installed\nVersion: 3\n\n"
                      "Package: python3-acme\nStatus: deinstall ok config-files\n\n"
                      "Package: python3-cryptography\nStatus: install ok installed\n"
                      "Description: one\n two: continued\n")
    monkeypatch.setattr(hostfiles, "DPKG_STATUS", str(status))
    wanted = ["python3-acme", "python3-cryptography", "cron", "nginx"]
    assert ensure(Plan(packages=wanted)).missing_packages == ["python3-acme", "nginx"]
    monkeypatch.setattr(hostfiles, "DPKG_STATUS", str(tmp_path / "no-dpkg"))
    assert ensure(Plan(packages=wanted)).missing_packages == wanted


def _only_root_writes(path: str) -> bool:
    while True:
        info = os.stat(path)
        if info.st_uid != 0 or info.st_mode & 0o022:
            return False
        if os.path.dirname(path) == path:
            return True
        path = os.path.dirname(path)


@pytest.fixture
def root_tree():
    """A folder whose every ancestor root owns and only root may write: the project's build/ when
    the checkout lies so, else /var/cache (a clone under /tmp, 1777, does not)."""
    import shutil
    import tempfile

    build = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4, "build"))
    folder = tempfile.mkdtemp(prefix="zdt-hostfiles-", dir=build if _only_root_writes(build) else "/var/cache")
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_a_link_at_a_folder_path_is_never_followed(tmp_path):
    """A user's `certs -> secret/` once made root open `secret` up from 0700 to 0755 (issue 19)."""
    secret = tmp_path / "secret"
    secret.mkdir(mode=0o700)
    os.symlink(secret, tmp_path / "certs")
    os.lchown(tmp_path / "certs", 65534, 65534)
    plan = Plan(directories=[{"path": str(tmp_path / "certs"), "mode": 0o755}])
    with pytest.raises(ConfigError, match="is a symbolic link; the role sets this folder's owner and mode itself"):
        ensure(plan)
    plan.directories[0]["link_if_root"] = True  # cert_dir's rule: only a link root made and guards
    with pytest.raises(ConfigError, match="followed only when root owns it"):
        ensure(plan)
    assert _mode(secret) == "0o700"


def test_cert_dir_may_be_a_link_that_root_owns_under_folders_only_root_may_write(root_tree):
    disk = os.path.join(root_tree, "bigdisk")
    os.mkdir(disk, 0o700)
    os.symlink(disk, os.path.join(root_tree, "live"))
    plan = Plan(directories=[{"path": os.path.join(root_tree, "live"), "mode": 0o755, "link_if_root": True}])
    assert ensure(plan).changed == [os.path.join(root_tree, "live")]
    assert _mode(disk) == "0o755" and os.path.islink(os.path.join(root_tree, "live"))
    assert ensure(plan).changed == []
    os.chmod(root_tree, 0o777)  # now anyone could swap the link
    with pytest.raises(ConfigError, match=f"{root_tree} does not qualify"):
        ensure(plan)


def test_a_plain_file_at_a_folder_path_is_refused(tmp_path):
    (tmp_path / "etc").write_text("")
    with pytest.raises(ConfigError, match="is not a folder"):
        ensure(Plan(directories=[{"path": str(tmp_path / "etc"), "mode": 0o755}]))


def test_lines_holding_a_mark_go_except_those_to_keep(tmp_path):
    keys = tmp_path / "authorized_keys"
    keys.write_text('ssh-ed25519 AAAA admin\n'
                    'restrict,command="/usr/local/sbin/zerodowntime-acme receive" ssh-ed25519 BBBB old\n'
                    'restrict,command="/usr/local/sbin/zerodowntime-acme receive --issuer web10" ssh-ed25519 CCCC\n'
                    'restrict,command="/usr/local/sbin/zerodowntime-acme receive --issuer web1" ssh-ed25519 DDDD\n')
    os.chmod(keys, 0o600)
    rule = {"path": str(keys), "containing": "/usr/local/sbin/zerodowntime-acme receive",
            "except_containing": '/usr/local/sbin/zerodowntime-acme receive --issuer web1"'}
    assert ensure(Plan(lines=[rule]), check_mode=True).changed == [str(keys)] and len(keys.read_text().splitlines()) == 4
    assert ensure(Plan(lines=[rule])).changed == [str(keys)]
    assert [line.split()[-1] for line in keys.read_text().splitlines()] == ["admin", "DDDD"]
    assert _mode(keys) == "0o600"
    assert ensure(Plan(lines=[rule])).changed == []
    assert ensure(Plan(lines=[dict(rule, except_containing=None)])).changed == [str(keys)]  # left the pool
    assert keys.read_text() == "ssh-ed25519 AAAA admin\n"
    assert ensure(Plan(lines=[dict(rule, path=str(tmp_path / "missing"))])).changed == []
