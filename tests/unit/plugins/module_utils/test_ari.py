"""ARI certificate IDs, the stored window and the point chosen in it: tests plugins/module_utils/ari.py."""

from __future__ import annotations

import datetime

import pytest
from acme import client as acme_client
from cryptography import x509

from ansible_collections.zerodowntime.acme.plugins.module_utils import ari
from tests.unit.conftest import NOW, make_cert

HOUR = datetime.timedelta(hours=1)


def test_cert_id_matches_the_acme_librarys_own_computation():
    for _attempt in range(20):  # serials of every length and sign bit
        _key, chain = make_cert(["a.example"])
        leaf = chain.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
        expected = acme_client._renewal_info_path_component(x509.load_pem_x509_certificate(leaf))
        assert ari.cert_id(leaf) == expected


def test_a_certificate_without_aki_has_no_id():
    _key, pem = make_cert(["a.example"], self_signed=True)
    assert ari.cert_id(pem) is None


def test_the_chosen_point_lies_in_the_window_and_is_kept_while_the_window_stays():
    start, end = NOW + 10 * HOUR, NOW + 20 * HOUR
    first = ari.window(start, end, 6 * HOUR, NOW)
    assert start <= first.chosen <= end and first.retry_after == NOW + 6 * HOUR
    again = ari.window(start, end, 6 * HOUR, NOW + 7 * HOUR, previous=first)
    assert again.chosen == first.chosen and again.retry_after == NOW + 13 * HOUR
    moved = ari.window(NOW - HOUR, NOW, 6 * HOUR, NOW, previous=first)
    assert NOW - HOUR <= moved.chosen <= NOW


def test_state_round_trips_and_belongs_to_one_certificate(tmp_path):
    _key, pem = make_cert(["a.example"])
    _other_key, other = make_cert(["a.example"])
    state = ari.window(NOW, NOW + HOUR, 6 * HOUR, NOW)
    ari.save(str(tmp_path), pem, state)
    assert ari.load(str(tmp_path), pem) == ari.Window(*(
        v.replace(microsecond=0) for v in (state.start, state.end, state.chosen, state.retry_after)))
    assert ari.load(str(tmp_path), other) is None
    assert ari.load(str(tmp_path / "missing"), pem) is None


@pytest.mark.parametrize("change", [
    {"start": "2026-11-29T12:00:00"},  # naive: which zone?
    {"chosen": "2030-01-01T00:00:00Z"},  # outside the window
    {"end": "2026-11-29T11:00:00Z"},  # ends before it starts
    {"retry_after": 17},
    {"start": None},
])
def test_a_stored_window_that_makes_no_sense_is_no_window(tmp_path, change):
    import hashlib
    import json

    _key, chain = make_cert(["a.example"])
    state = {"start": "2026-11-29T12:00:00Z", "end": "2026-11-30T12:00:00Z", "chosen": "2026-11-30T00:00:00Z",
             "retry_after": "2026-11-29T18:00:00Z", "cert_sha256": hashlib.sha256(chain).hexdigest()}
    (tmp_path / "ari.json").write_text(json.dumps(dict(state, **change)))
    assert ari.load(str(tmp_path), chain) is None
    (tmp_path / "ari.json").write_text(json.dumps(state))
    assert ari.load(str(tmp_path), chain) is not None
