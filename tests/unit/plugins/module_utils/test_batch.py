"""batch.ensure_all: many certificates in one process. issuance is faked here (what is tested is how
the batch runs them); the CLI's tests run it with the real engine."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import batch, connection, issuance
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec


def _spec(name: str) -> CertificateSpec:
    return CertificateSpec.from_options(dict(domains=[f"{name}.example.org"], name=name, webroot="/var/www/w"))


@pytest.fixture
def engine(monkeypatch):
    """A fake issuance: `local` names are settled without the CA, `broken` ones raise; every call is
    recorded with its thread and whether the run's shared sessions were visible to it."""
    calls: list[dict] = []
    local = {"quiet"}
    broken = {"broken"}

    def ensure(spec, *, force=False, check_mode=False, now=None):
        calls.append(dict(name=spec.name, force=force, check_mode=check_mode, thread=threading.get_ident(),
                          shared=connection._SHARED.get() is not None))  # pylint: disable=protected-access
        if spec.name in broken:
            raise RuntimeError(f"{spec.name} failed")
        return f"ordered {spec.name}"

    def ensure_locally(spec, *, force=False, now=None):
        if spec.name in broken:
            raise RuntimeError(f"{spec.name} failed")
        return f"settled {spec.name}" if spec.name in local and not force else None

    monkeypatch.setattr(issuance, "ensure", ensure)
    monkeypatch.setattr(issuance, "ensure_locally", ensure_locally)
    return calls


def test_results_come_back_in_the_list_order_with_a_failure_in_its_place(engine):
    items = [(_spec(n), False) for n in ("a", "quiet", "broken", "b")]
    results = batch.ensure_all(items, jobs=4)
    assert results[0] == "ordered a" and results[1] == "settled quiet" and results[3] == "ordered b"
    assert isinstance(results[2], RuntimeError) and str(results[2]) == "broken failed"


def test_each_certificate_keeps_its_own_force(engine):
    batch.ensure_all([(_spec("quiet"), True), (_spec("a"), False)], jobs=1)
    assert {call["name"]: call["force"] for call in engine} == {"quiet": True, "a": False}


def test_what_is_due_runs_in_threads_that_share_the_runs_sessions(engine):
    batch.ensure_all([(_spec(n), False) for n in ("a", "b", "c")], jobs=3)
    assert all(call["shared"] for call in engine) and len(engine) == 3
    assert threading.get_ident() not in {call["thread"] for call in engine}


def test_nothing_due_starts_no_thread(engine, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a thread pool for a run with nothing due")

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", no_pool)
    assert batch.ensure_all([(_spec("quiet"), False)] * 3, jobs=4) == ["settled quiet"] * 3
    assert not engine


def test_check_mode_asks_each_to_decide_only_in_this_thread(engine):
    results = batch.ensure_all([(_spec("quiet"), False), (_spec("a"), True)], jobs=4, check_mode=True)
    assert results == ["ordered quiet", "ordered a"]
    assert [call["check_mode"] for call in engine] == [True, True]
    assert {call["thread"] for call in engine} == {threading.get_ident()}
