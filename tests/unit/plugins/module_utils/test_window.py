"""The CA's renewal window for a certificate: tests plugins/module_utils/window.py. The session is a
stand-in that answers as a CA would (the real exchange runs against Pebble in test_ari.py)."""

from __future__ import annotations

import datetime

from ansible_collections.zerodowntime.acme.plugins.module_utils import ari, window
from tests.unit.conftest import NOW, make_cert

HOUR = datetime.timedelta(hours=1)


class CA:
    """Answers renewalInfo with a window a day ahead, and counts the questions."""

    def __init__(self, offers_ari: bool = True) -> None:
        self.offers_ari = offers_ari
        self.asked: list[str] = []

    def has_ari(self) -> bool:
        return self.offers_ari

    def renewal_info(self, cert_id: str):
        self.asked.append(cert_id)
        return NOW + 24 * HOUR, NOW + 26 * HOUR, 6 * HOUR


def test_the_window_of_a_certificate_with_an_id_is_asked_and_a_point_chosen_in_it():
    _key, chain = make_cert(["a.example"])
    ca = CA()
    found = window.ask(ca, chain, NOW)
    assert ca.asked == [ari.cert_id(chain)]
    assert found.start <= found.chosen <= found.end and found.retry_after == NOW + 6 * HOUR


def test_the_point_chosen_before_is_kept_while_the_window_stays():
    _key, chain = make_cert(["a.example"])
    first = window.ask(CA(), chain, NOW)
    assert window.ask(CA(), chain, NOW + HOUR, previous=first).chosen == first.chosen


def test_no_question_without_ari_or_without_an_id():
    _key, chain = make_cert(["a.example"])
    ca = CA(offers_ari=False)
    assert window.ask(ca, chain, NOW) is None and ca.asked == []
    _key, self_signed = make_cert(["a.example"], self_signed=True)  # no authority key identifier
    ca = CA()
    assert window.ask(ca, self_signed, NOW) is None and ca.asked == []
