"""A new version of a lineage and its atomic swap: tests plugins/module_utils/versions.py."""

from __future__ import annotations

import os

from ansible_collections.zerodowntime.acme.plugins.module_utils import lineage, locks, versions
from tests.unit.conftest import make_cert


def _write(cert_dir, name: str) -> None:
    key, chain = make_cert([f"{name.replace('.', '-')}.example"])
    with locks.holding(str(cert_dir), name):
        versions.write(str(cert_dir), name, key, chain, {})


def test_renewing_a_leaves_the_lineage_named_a_tmp_b_alone(tmp_path):
    """The engine's own names once collided with lineage names: renewing `a` deleted the live link of
    `a.tmp-b`, taken for a link swap cut short (issue 19)."""
    _write(tmp_path, "a.tmp-b")
    _write(tmp_path, "a")
    _write(tmp_path, "a")
    assert lineage.read(str(tmp_path), "a.tmp-b") is not None
    assert lineage.current_version(str(tmp_path), "a") == "2"


def test_a_lineage_named_c_lock_lives_beside_c(tmp_path):
    """`c`'s lock file once sat where `c.lock`'s versions go (issue 19)."""
    _write(tmp_path, "c")
    _write(tmp_path, "c.lock")
    _write(tmp_path, "c")
    assert lineage.read(str(tmp_path), "c.lock") is not None and lineage.read(str(tmp_path), "c") is not None


def test_a_swap_cut_short_leaves_a_hidden_link_that_the_next_write_removes(tmp_path):
    _write(tmp_path, "a")
    os.symlink(".versions/a/1", tmp_path / ".a.tmp-0123456789abcdef")  # hidden: no lineage name starts with a dot
    os.symlink(".versions/a/1", tmp_path / "a.tmp-0123456789abcdef")  # as releases before 0.2.0 left them
    _write(tmp_path, "a")
    assert sorted(os.listdir(tmp_path)) == [".versions", "a"]
