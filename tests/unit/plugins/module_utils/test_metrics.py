"""The Prometheus textfile: tests plugins/module_utils/metrics.py."""

from __future__ import annotations

import datetime

from ansible_collections.zerodowntime.acme.plugins.module_utils import metrics, push
from ansible_collections.zerodowntime.acme.plugins.module_utils.info import Info

RUN = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone.utc)


def _info(name: str, **extra) -> Info:
    base = dict(name=name, exists=True, domains=[name], issuer="CN=Test", serial="1",
                not_before="2026-11-01T00:00:00Z", not_after="2027-01-30T00:00:00Z", days_left=61.0,
                due=False, reason="not due", renew_at="2026-12-31T00:00:00Z", issued_at="2026-11-01T00:05:00Z",
                reload_pending=False)
    base.update(extra)
    return Info(**base)


def _samples(text: str) -> dict[str, str]:
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))


def test_each_certificate_has_its_expiry_last_renewal_and_state():
    text = metrics.render([_info("www"), _info("api", due=True)], {"api": 2}, run_at=RUN, success=False)
    samples = _samples(text)
    assert samples['zerodowntime_acme_certificate_expiry_timestamp_seconds{name="www"}'] == "1801267200"
    assert samples['zerodowntime_acme_certificate_renewal_timestamp_seconds{name="www"}'] == "1793491500"
    assert samples['zerodowntime_acme_certificate_renew_at_timestamp_seconds{name="www"}'] == "1798675200"
    assert samples['zerodowntime_acme_certificate_due{name="api"}'] == "1"
    assert samples['zerodowntime_acme_certificate_failures{name="api"}'] == "2"
    assert samples['zerodowntime_acme_certificate_failures{name="www"}'] == "0"
    assert samples["zerodowntime_acme_last_run_timestamp_seconds"] == str(int(RUN.timestamp()))
    assert samples["zerodowntime_acme_last_run_success"] == "0"


def test_every_metric_has_help_and_type_once():
    member = push.MemberState(host="web2", serial="0a", current=True, error=None)
    text = metrics.render([_info("www"), _info("api")], {}, run_at=RUN, success=True, undelivered={"www": 1},
                          members={"www": [member]}, hook_failures={"reload postfix": ("www",)})
    for name in metrics.HELP:
        assert text.count(f"# TYPE zerodowntime_acme_{name} gauge\n") == 1


def test_a_failed_service_reload_is_one_series_with_its_step_and_certificates():
    text = metrics.render([_info("www")], {}, run_at=RUN, success=False,
                          hook_failures={'reload "odd"': ("www", "api")})
    assert _samples(text)['zerodowntime_acme_hook_failed{step="reload \\"odd\\"",names="www,api"}'] == "1"
    assert "hook_failed" not in metrics.render([_info("www")], {}, run_at=RUN, success=True)


def test_a_missing_certificate_has_no_expiry_but_is_due():
    missing = _info("new", exists=False, not_before=None, not_after=None, days_left=None, due=True,
                    renew_at=None, issued_at=None)
    samples = _samples(metrics.render([missing], {}, run_at=RUN, success=True))
    assert 'zerodowntime_acme_certificate_expiry_timestamp_seconds{name="new"}' not in samples
    assert samples['zerodowntime_acme_certificate_due{name="new"}'] == "1"


def test_label_values_are_escaped():
    text = metrics.render([_info('we"ird\\name')], {}, run_at=RUN, success=True)
    assert '{name="we\\"ird\\\\name"}' in text


def test_a_pending_reload_is_shown():
    assert _samples(metrics.render([_info("www")], {}, run_at=RUN, success=True))[
        "zerodowntime_acme_reload_pending"] == "0"
    assert _samples(metrics.render([_info("www")], {}, run_at=RUN, success=True, reload_pending=True))[
        "zerodowntime_acme_reload_pending"] == "1"


def test_a_pools_undelivered_members_are_counted_per_certificate():
    samples = _samples(metrics.render([_info("www")], {}, run_at=RUN, success=True, undelivered={"www": 2}))
    assert samples['zerodowntime_acme_pool_members_undelivered{name="www"}'] == "2"


def test_a_renewal_time_out_of_range_leaves_its_sample_out_and_the_rest_in():
    """Year 1 at +14:00 cannot be converted to UTC: it once ended every renew in OverflowError."""
    text = metrics.render([_info("www", issued_at="0001-01-01T00:00:00+14:00")], {}, run_at=RUN, success=True)
    samples = _samples(text)
    assert 'zerodowntime_acme_certificate_renewal_timestamp_seconds{name="www"}' not in samples
    assert samples['zerodowntime_acme_certificate_expiry_timestamp_seconds{name="www"}'] == "1801267200"
