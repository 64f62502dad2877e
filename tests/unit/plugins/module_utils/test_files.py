"""State files: tests plugins/module_utils/files.py."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import files


def test_replace_writes_through_a_new_random_name_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "state.json"
    files.write_json(str(target), {"a": 1}, mode=0o600)
    files.write_json(str(target), {"a": 2}, mode=0o600)
    assert json.loads(target.read_text()) == {"a": 2}
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["state.json"]


def test_replace_replaces_a_planted_link_and_never_writes_through_it(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / "metrics.prom")
    # The old scheme's predictable temp name, planted too.
    os.symlink(victim, tmp_path / f"metrics.prom.{os.getpid()}.tmp")
    files.replace(str(tmp_path / "metrics.prom"), b"new\n")
    assert victim.read_text() == "precious"
    assert not os.path.islink(tmp_path / "metrics.prom") and (tmp_path / "metrics.prom").read_text() == "new\n"


def test_write_new_refuses_an_existing_name_link_included(tmp_path):
    os.symlink(tmp_path / "nowhere", tmp_path / "key.pem")
    with pytest.raises(FileExistsError):
        files.write_new(str(tmp_path / "key.pem"), b"x", 0o600)
    assert not os.path.exists(tmp_path / "nowhere")


@pytest.mark.parametrize("content", [b"[1, 2]", b"{not json", b"\xff\xfe", b"[" * 100000, b"{}" + b" " * (files.MAX_STATE_BYTES)])
def test_a_state_file_that_makes_no_sense_reads_as_empty(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_bytes(content)
    assert files.read_json_object(str(path)) == {}
