"""Text from elsewhere, made safe to print and store: tests plugins/module_utils/texts.py."""

from __future__ import annotations

from ansible_collections.zerodowntime.acme.plugins.module_utils import texts


def test_control_characters_escapes_and_lone_surrogates_become_visible_escapes():
    printed = texts.printable("ok\nforged line\r\x1b[31mred\x9b\ud800 é ✓")
    assert printed == "ok\\x0aforged line\\x0d\\x1b[31mred\\x9b\\ud800 é ✓"
    printed.encode("utf-8")  # no lone surrogate left


def test_a_long_text_keeps_its_end():
    printed = texts.printable("x" * 10000 + "what failed", limit=100)
    assert len(printed) == 100 and printed.startswith("...") and printed.endswith("what failed")


def test_the_last_line_of_output():
    assert texts.last_line("first\nsecond\x1b]0;title\x07\n\n  \n") == "second\\x1b]0;title\\x07"
    assert texts.last_line("") == ""
