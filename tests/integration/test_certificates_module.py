"""zerodowntime.acme.certificates through `ansible`, against Pebble 2.10: a host's certificates in one
task, each reported in its place, one failure stopping no other, every element checked before any
order, and a second run that asks the CA nothing."""

from __future__ import annotations

import os

from .conftest import fqdn, run_module

MODULE = "zerodowntime.acme.certificates"
CA_OPTIONS = ("directory_url", "ca_bundle", "account_key")


def _task(testbed, elements: list[dict]) -> dict:
    """The module's arguments: the CA's once, and each element's own."""
    ca = {key: value for key, value in testbed.args("list1").items() if key in CA_OPTIONS}
    return dict(ca, certificates=[{key: value for key, value in element.items() if key not in CA_OPTIONS}
                                  for element in elements])


def _lineage(testbed, label: str) -> str:
    return os.path.join(testbed.state, "live", fqdn(label))


def test_one_task_orders_each_reports_each_and_a_failure_stops_no_other(testbed):
    elements = [testbed.args("list1"), testbed.args("listbad", key_group="zdt-no-such-group", key_mode="0640"),
                testbed.args("list2"), testbed.args("list3")]
    before = len(testbed.pebble.order_events())
    result = run_module(_task(testbed, elements), module=MODULE)

    assert result["failed"] and result["changed"]
    assert result["msg"].startswith("1 of 4 certificates failed: " + fqdn("listbad")), result["msg"]
    assert "zdt-no-such-group" in result["msg"]
    reports = result["certificates"]
    assert [report["name"] for report in reports] == [fqdn(label) for label in ("list1", "listbad", "list2", "list3")]
    assert reports[1]["failed"] and not reports[1]["changed"]
    for label, report in zip(("list1", "list2", "list3"), (reports[0], reports[2], reports[3])):
        assert report["changed"] and not report.get("failed"), report
        assert report["reason"] == "no certificate exists yet" and report["renew_at"] and report["serial"]
        assert os.path.exists(os.path.join(_lineage(testbed, label), "fullchain.pem"))
    assert not os.path.exists(_lineage(testbed, "listbad"))
    placed = [event for event, _order in testbed.pebble.order_events()[before:] if event == "finalized"]
    assert len(placed) == 3

    # The same task again, without the bad one: nothing due, nothing asked of the CA.
    requests = testbed.pebble.request_count()
    again = run_module(_task(testbed, [elements[0], elements[2], elements[3]]), module=MODULE)
    assert not again.get("failed") and not again["changed"], again
    assert [report["changed"] for report in again["certificates"]] == [False, False, False]
    kept = [reports[0]["serial"], reports[2]["serial"], reports[3]["serial"]]
    assert [report["serial"] for report in again["certificates"]] == kept
    assert testbed.pebble.request_count() == requests


def test_a_bad_element_fails_the_task_before_any_order(testbed):
    requests = testbed.pebble.request_count()
    elements = [testbed.args("listcheck"), testbed.args("list2", domains=[f"*.{fqdn('list2')}"])]
    result = run_module(_task(testbed, elements), module=MODULE)

    assert result["failed"] and not result.get("changed")
    assert result["msg"].startswith("certificates[1]: "), result["msg"]
    assert "dns-01" in result["msg"]  # a wildcard needs dns-01, and the message says so
    assert testbed.pebble.request_count() == requests
    assert not os.path.exists(_lineage(testbed, "listcheck"))


def test_two_elements_with_one_name_are_refused(testbed):
    elements = [testbed.args("listcheck"), testbed.args("list2", name=fqdn("listcheck"))]
    result = run_module(_task(testbed, elements), module=MODULE)

    assert result["failed"]
    assert f"certificates[1]: the name {fqdn('listcheck')} is taken by an earlier element" in result["msg"]
    assert not os.path.exists(_lineage(testbed, "listcheck"))


def test_check_mode_decides_each_and_writes_nothing(testbed):
    requests = testbed.pebble.request_count()
    result = run_module(_task(testbed, [testbed.args("list1"), testbed.args("listcheck")]), module=MODULE, check=True)

    assert not result.get("failed") and result["changed"], result
    assert [report["changed"] for report in result["certificates"]] == [False, True]
    assert testbed.pebble.request_count() == requests
    assert not os.path.exists(_lineage(testbed, "listcheck"))
