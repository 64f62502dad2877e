"""The CA's problem documents as messages: tests plugins/module_utils/problems.py."""

from __future__ import annotations

import pytest
import requests
from acme import errors as acme_errors
from acme import messages

from ansible_collections.zerodowntime.acme.plugins.module_utils import problems


def _problem(**body) -> messages.Error:
    return messages.Error.from_json(body)


def test_a_problem_names_its_type_detail_identifier_and_subproblems():
    problem = _problem(type="urn:ietf:params:acme:error:rejectedIdentifier", detail="some names are forbidden",
                       subproblems=[
                           {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids it",
                            "identifier": {"type": "dns", "value": "a.example"}},
                           {"type": "urn:ietf:params:acme:error:dns", "detail": "NXDOMAIN",
                            "identifier": {"type": "dns", "value": "b.example"}}])
    assert problems.describe(problem) == ("rejectedIdentifier: some names are forbidden; caa: CAA forbids it "
                                          "(for a.example); dns: NXDOMAIN (for b.example)")


def test_codes_unknown_to_the_library_are_still_read():
    assert problems.code(_problem(type="urn:ietf:params:acme:error:alreadyReplaced")) == "alreadyReplaced"
    assert problems.code(_problem(type="about:blank")) == ""


def test_a_servers_text_is_shortened_and_stripped_of_control_characters():
    problem = _problem(type="urn:ietf:params:acme:error:malformed", detail="line one\n\x1b[31mred\x1b[0m" + "x" * 1000)
    text = problems.describe(problem)
    assert "\n" not in text and "\x1b" not in text and len(text) < 400 and text.endswith("...")


def test_many_subproblems_are_summed_up():
    subs = [{"type": "urn:ietf:params:acme:error:dns", "detail": str(i)} for i in range(20)]
    assert problems.describe(_problem(type="urn:ietf:params:acme:error:compound", subproblems=subs)).endswith(
        "; and 15 more")


def _response(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code, response.reason = status, "Bad Gateway"
    return response


@pytest.mark.parametrize("error, words", [
    (_problem(type="urn:ietf:params:acme:error:rateLimited", detail="slow down"), "answered rateLimited: slow down"),
    (problems.Refused("https://ca.test/dir answered with more than 1048576 bytes"), "failed: https://ca.test/dir answered"),
    (requests.exceptions.ConnectionError("reset"), "cannot reach https://ca.test/x"),
    (requests.exceptions.ReadTimeout("slow"), "did not answer in time"),
    (acme_errors.ClientError(_response(502)), "answered HTTP 502 Bad Gateway"),
    (acme_errors.ConflictError("https://ca.test/acct/1"), "409 Conflict"),
    (KeyError("identifier"), "sent an answer that cannot be used (KeyError"),
    (TypeError("'int' object is not iterable"), "sent an answer that cannot be used (TypeError"),
])
def test_every_failure_becomes_one_sentence_naming_the_step_and_url(error, words):
    message = problems.failure("doing the step", "https://ca.test/x", error)
    assert message.startswith("doing the step") and words in message
