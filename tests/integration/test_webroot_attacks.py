"""A webroot owned by a site's user, who plays the attacker, against the module running as root.

The user (here `nobody`) owns the webroot, as a site's user often owns its document root, and plants
what they can there. The module must refuse before any order, and nothing outside the webroot may
be created or changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from .conftest import run_module

NOBODY = 65534


def _as_nobody(*command: str) -> None:
    subprocess.run(command, user=NOBODY, group=NOBODY, check=True, cwd="/")


@pytest.fixture
def hostile_webroot(testbed, tmp_path_factory):
    """A webroot owned by `nobody` inside a folder nginx serves; and a victim folder and file
    outside it, which the attacker would like root to write to."""
    root = os.path.join(testbed.state, "site-webroot")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    os.chown(root, NOBODY, NOBODY)
    outside = tmp_path_factory.mktemp("outside")
    os.chmod(outside, 0o777)  # so that the attacker can name it, as a real target would be named
    victim = outside / "victim"
    victim.write_text("precious")
    os.chmod(victim, 0o600)
    yield root, outside, victim
    shutil.rmtree(root, ignore_errors=True)


def _refused(testbed, root: str, outside, victim, words: str) -> None:
    requests_before = testbed.pebble.request_count()
    result = run_module(testbed.args("a", name="attacked", webroot=root, force=True))
    assert result.get("failed") is True and words in result["msg"], result
    assert testbed.pebble.request_count() == requests_before, "an order was placed"
    assert sorted(os.listdir(outside)) == ["victim"]
    assert victim.read_text() == "precious" and oct(os.stat(victim).st_mode & 0o777) == "0o600"


def test_a_planted_folder_link_is_refused(testbed, hostile_webroot):
    root, outside, victim = hostile_webroot
    _as_nobody("mkdir", os.path.join(root, ".well-known"))
    _as_nobody("ln", "-s", str(outside), os.path.join(root, ".well-known", "acme-challenge"))
    _refused(testbed, root, outside, victim, "is a symbolic link; refusing to follow it")


def test_a_planted_well_known_link_is_refused(testbed, hostile_webroot):
    root, outside, victim = hostile_webroot
    _as_nobody("ln", "-s", str(outside), os.path.join(root, ".well-known"))
    _refused(testbed, root, outside, victim, "is a symbolic link; refusing to follow it")


def test_a_challenge_folder_of_the_sites_user_with_planted_token_links_is_refused(testbed, hostile_webroot):
    root, outside, victim = hostile_webroot
    folder = os.path.join(root, ".well-known", "acme-challenge")
    _as_nobody("mkdir", "-p", folder)
    for guess in ("a", "token", "x" * 43):
        _as_nobody("ln", "-s", str(victim), os.path.join(folder, guess))
    _refused(testbed, root, outside, victim, f"is owned by uid {NOBODY}, who could plant links in it")


def test_a_group_writable_challenge_folder_is_refused(testbed, hostile_webroot):
    root, outside, victim = hostile_webroot
    folder = os.path.join(root, ".well-known", "acme-challenge")
    os.makedirs(folder)
    os.chmod(folder, 0o775)
    _refused(testbed, root, outside, victim, "writable by its group or by everyone")


def test_a_webroot_of_the_sites_user_works_with_a_challenge_folder_of_roots(testbed):
    # Used right, such a webroot works: nginx serves it, and the challenge folder is root's.
    os.chown(testbed.webroot, NOBODY, NOBODY)
    try:
        result = run_module(testbed.args("a", name="attacked", force=True))
    finally:
        os.chown(testbed.webroot, 0, 0)
    assert result["changed"] is True, result.get("msg")
    assert os.stat(os.path.join(testbed.webroot, ".well-known", "acme-challenge")).st_uid == 0
