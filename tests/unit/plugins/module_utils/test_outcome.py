"""Outcome.returned: the certificate module's return values, which each element of the certificates
module's list repeats."""

from __future__ import annotations

from ansible_collections.zerodowntime.acme.plugins.module_utils.outcome import Outcome


def _outcome(**changes) -> Outcome:
    return Outcome(**dict(dict(changed=False, reason="not due", name="a", domains=["a.example.org"],
                               paths={"cert": "/live/a/cert.pem"}), **changes))


def test_the_return_values_hold_what_the_modules_document_and_nothing_internal():
    returned = _outcome(warnings=["w"], diff={"before": {}}, renewed=True).returned()
    assert set(returned) == {"changed", "reason", "name", "domains", "paths", "not_before", "not_after", "serial",
                             "renew_at"}


def test_replaces_and_repaired_are_returned_only_when_they_happened():
    returned = _outcome(replaces="aYhba4dG.AIdl", repaired=["privkey.pem"]).returned()
    assert returned["replaces"] == "aYhba4dG.AIdl" and returned["repaired"] == ["privkey.pem"]
