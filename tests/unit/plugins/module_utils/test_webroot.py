"""The challenge folder: tests plugins/module_utils/webroot.py, through the http-01 responder
where a test needs it to write there.

The webroot attacks are played for real on the file system: links and folders planted where a
site's user could plant them, with the responder running as root (as the role runs it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import NamedTuple

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import webroot
from ansible_collections.zerodowntime.acme.plugins.module_utils.responder import HttpResponder
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError

KEY_AUTHZ = "tok_en-1.thumbprint"


class _Pending(NamedTuple):
    """A pending challenge as the client hands it to a responder."""

    token: str
    identifier: str
    key_authorization: str


def _challenge(token: str, identifier: str = "127.0.0.1") -> _Pending:
    return _Pending(token, identifier, KEY_AUTHZ)


NOBODY = 65534


def _challenge_dir(root) -> str:
    return os.path.join(str(root), ".well-known", "acme-challenge")


def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("this test plays a webroot owned by another user: run it as root, as `make test` does")


def test_missing_webroot_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        webroot.check_webroot(str(tmp_path / "missing"))


@pytest.mark.parametrize("planted", [".well-known", ".well-known/acme-challenge"])
def test_a_planted_folder_link_is_refused_and_nothing_is_written_through_it(tmp_path, planted):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "webroot"
    (root / ".well-known").mkdir(parents=True)
    if planted == ".well-known":
        os.rmdir(root / ".well-known")
    os.symlink(outside, root / planted)
    for attempt in (lambda: webroot.check_webroot(str(root)), lambda: HttpResponder(str(root)).__enter__()):
        with pytest.raises(ConfigError, match="symbolic link"):
            attempt()
    assert os.listdir(outside) == []


def test_a_group_writable_challenge_folder_is_refused(tmp_path):
    os.makedirs(_challenge_dir(tmp_path))
    os.chmod(_challenge_dir(tmp_path), 0o775)
    with pytest.raises(ConfigError, match="writable by its group or by everyone"):
        webroot.check_webroot(str(tmp_path))


def test_a_challenge_folder_owned_by_another_user_is_refused(tmp_path):
    _needs_root()
    os.makedirs(_challenge_dir(tmp_path))
    os.chown(_challenge_dir(tmp_path), NOBODY, NOBODY)
    with pytest.raises(ConfigError, match=f"owned by uid {NOBODY}"):
        webroot.check_webroot(str(tmp_path))


def test_a_webroot_owned_by_another_user_is_fine_while_the_challenge_folder_is_roots(tmp_path):
    _needs_root()
    os.chown(tmp_path, NOBODY, NOBODY)
    with HttpResponder(str(tmp_path)) as responder:
        responder.present(_challenge("tok"))
        assert os.stat(_challenge_dir(tmp_path)).st_uid == 0


def test_a_challenge_folder_that_is_a_file_is_refused(tmp_path):
    os.makedirs(tmp_path / ".well-known")
    (tmp_path / ".well-known" / "acme-challenge").write_text("")
    with pytest.raises(ConfigError, match="not a folder"):
        webroot.check_webroot(str(tmp_path))


def test_read_only_webroot_is_a_config_error():
    # Root may write anywhere, so as root the check runs in a child process as 'nobody'.
    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o555)
    try:
        if os.geteuid() != 0:
            with pytest.raises(ConfigError, match="cannot create it"):
                webroot.check_webroot(folder)
            return
        script = ("from ansible_collections.zerodowntime.acme.plugins.module_utils import webroot\n"
                  f"webroot.check_webroot({folder!r})")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        run = subprocess.run([sys.executable, "-c", script], user=NOBODY, group=NOBODY, env=env,
                             capture_output=True, text=True, cwd="/", check=False)
        assert run.returncode == 1 and "ConfigError" in run.stderr and "cannot create it" in run.stderr
    finally:
        os.rmdir(folder)
