"""Retry-After on 429 and 503, against Pebble 2.10 behind a proxy that answers chosen requests as a
busy or rate-limiting CA would (Pebble itself never throttles)."""

from __future__ import annotations

import os

from tools.testbed.hostile import Rule, throttle

from .conftest import run_module


def test_short_retry_after_hints_are_waited_out(testbed, proxy):
    proxy.rules = [Rule("GET", "/dir", throttle(503, "1")), Rule("POST", "/order-plz", throttle(429, "2"))]
    result = run_module(testbed.args("throttle", directory_url=proxy.directory_url))
    assert result["changed"], result.get("msg")

    directory = proxy.requests_to("GET", "/dir")
    assert [s.status for s in directory[:2]] == [503, 200]
    assert directory[1].at - directory[0].at >= 1
    orders = proxy.requests_to("POST", "/order-plz")
    # 429, then (past Pebble's deliberate badNonce answers, 400) the order is created.
    assert orders[0].status == 429 and orders[-1].status == 201
    assert all(s.status == 400 for s in orders[1:-1])
    assert orders[1].at - orders[0].at >= 2


def test_a_long_retry_after_fails_at_once_and_says_when(testbed, proxy):
    proxy.rules = [Rule("POST", "/order-plz", throttle(429, "7200"), times=5)]
    result = run_module(testbed.args("limited", directory_url=proxy.directory_url))
    assert result["failed"]
    assert "placing the order failed" in result["msg"] and "rateLimited" in result["msg"]
    assert "the CA asks not to be asked again before" in result["msg"]
    assert len(proxy.requests_to("POST", "/order-plz")) == 1, "a long Retry-After must not be retried"
    assert not os.path.exists(os.path.join(testbed.state, "live", "limited.zdt.test"))
