"""One reload path: the roles' handlers reload only through `zerodowntime-acme reload` (issue 20)."""

from __future__ import annotations

import glob
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _handlers() -> list[dict]:
    found = []
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "handlers", "*.yml")):
        with open(path, encoding="utf-8") as f:
            found += yaml.safe_load(f) or []
    return found


def test_the_only_handler_is_the_clis_reload_on_both_topics():
    """The nginx role's handlers once reloaded through the service module and then deleted
    .reload-pending without the engine's lock and compare: a certificate cron wrote between the two
    was never loaded, and nothing said so."""
    handlers = _handlers()
    assert [h["ansible.builtin.command"] for h in handlers] == ["{{ _zerodowntime_acme_cli_path }} reload"]
    assert sorted(handlers[0]["listen"]) == ["zerodowntime_acme reload", "zerodowntime_acme reload nginx"]


def test_no_task_or_handler_touches_the_reload_note_itself():
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "*", "*.yml")):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for line in text.splitlines():
            if ".reload-pending" in line and not line.lstrip().startswith("#"):
                assert "stat" in line or "msg" in line, f"{path}: {line}"  # looked at, never written
