"""The reload-pending note: tests plugins/module_utils/reloads.py."""

from __future__ import annotations

import datetime

from ansible_collections.zerodowntime.acme.plugins.module_utils import reloads

NOW = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)


def test_each_new_certificate_joins_the_note_which_keeps_its_first_time(tmp_path):
    assert reloads.pending(str(tmp_path)) is None
    reloads.mark(str(tmp_path), "b", NOW)
    reloads.mark(str(tmp_path), "a", NOW + datetime.timedelta(hours=1))
    reloads.mark(str(tmp_path), "a", NOW + datetime.timedelta(hours=2))
    assert reloads.pending(str(tmp_path)) == {"names": ["a", "b"], "since": "2026-11-29T12:00:00Z"}


def test_a_reload_clears_only_the_note_it_saw(tmp_path):
    reloads.mark(str(tmp_path), "a", NOW)
    seen = reloads.pending(str(tmp_path))
    reloads.mark(str(tmp_path), "b", NOW)  # written while the server reloaded
    assert reloads.clear(str(tmp_path), seen) is False
    assert reloads.pending(str(tmp_path))["names"] == ["a", "b"]
    assert reloads.clear(str(tmp_path), reloads.pending(str(tmp_path))) is True
    assert reloads.pending(str(tmp_path)) is None


def test_a_note_that_cannot_be_read_still_means_a_reload_is_pending(tmp_path):
    (tmp_path / reloads.MARKER).write_text('{"names": [5, "a\\nb"], "since": 7}')
    assert reloads.pending(str(tmp_path)) == {"names": ["a\nb"], "since": "(unknown)"}
    (tmp_path / reloads.MARKER).write_text("garbage")
    assert reloads.pending(str(tmp_path)) == {"names": ["(unknown)"], "since": "(unknown)"}
