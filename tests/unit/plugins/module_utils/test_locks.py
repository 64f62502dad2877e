"""One lock per lineage for every writer, and one for a cert_dir's shared files: tests
plugins/module_utils/locks.py, and that the writers (the module's ensure, the CLI's placeholder)
hold it."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import random
import signal
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.zerodowntime.acme.plugins.module_utils import cli, issuance, lineage, locks, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import StorageError
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec
from tests.unit.conftest import make_cert

UNREACHABLE = "https://127.0.0.1:9/dir"
FORK = multiprocessing.get_context("fork")


def _hold_elsewhere(cert_dir: str, name: str | None = None):
    """Hold a lineage's lock (or, without a name, the cert_dir's) from another open file, as another
    process would."""
    folder = cert_dir if name is None else os.path.join(cert_dir, locks.VERSIONS)
    os.makedirs(folder, exist_ok=True)
    fd = os.open(os.path.join(folder, locks.LOCK_FILE if name is None else f".{name}.lock"),
                 os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_second_writer_waits_then_fails_clearly(tmp_path):
    fd = _hold_elsewhere(str(tmp_path))
    try:
        start = time.monotonic()
        with pytest.raises(StorageError, match="still holds .*after 0 s; try again when it has finished"):
            with locks.holding(str(tmp_path), wait=0.3):
                pass
        assert time.monotonic() - start >= 0.3
    finally:
        os.close(fd)
    with locks.holding(str(tmp_path), wait=0.3):  # free again
        pass


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with locks.holding(str(tmp_path), wait=0.1):
        with locks.holding(str(tmp_path), wait=0.1):
            pass
        with locks.holding(str(tmp_path), wait=0.1):
            pass


def test_two_threads_exclude_each_other_and_two_lineages_do_not(tmp_path):
    import threading

    order = []

    def second(name):
        with locks.holding(str(tmp_path), name, wait=5):
            order.append(f"second {name}")

    with locks.holding(str(tmp_path), "a", wait=1):
        other = threading.Thread(target=second, args=("b",))
        other.start()
        other.join(5)  # another lineage: not held up
        same = threading.Thread(target=second, args=("a",))
        same.start()
        time.sleep(0.3)
        order.append("first a")
    same.join(5)
    assert order == ["second b", "first a", "second a"]


def test_a_lineage_writer_may_take_the_cert_dirs_lock_inside_its_own(tmp_path):
    with locks.holding(str(tmp_path), "a", wait=0.3):
        with locks.holding(str(tmp_path), wait=0.3):
            pass
    fd = _hold_elsewhere(str(tmp_path))  # the shared files' lock does not hold up a lineage
    try:
        with locks.holding(str(tmp_path), "a", wait=0.3):
            pass
    finally:
        os.close(fd)


def test_the_module_holds_the_lock_while_it_decides_and_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(locks, "WAIT", 0.2)
    os.makedirs(tmp_path / "webroot")
    spec = CertificateSpec.from_options(dict(domains=["a.example"], webroot=str(tmp_path / "webroot"),
                                             cert_dir=str(tmp_path / "live"), directory_url=UNREACHABLE))
    fd = _hold_elsewhere(str(tmp_path / "live"), "a.example")
    try:
        with pytest.raises(StorageError, match="still holds"):
            issuance.ensure(spec)
        assert issuance.ensure(spec, check_mode=True).changed  # check mode writes nothing, needs no lock
    finally:
        os.close(fd)


def test_placeholder_holds_the_lock(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(locks, "WAIT", 0.2)
    (tmp_path / "webroot").mkdir()
    (tmp_path / "certificates").mkdir()
    (tmp_path / "certificates" / "one.json").write_text(json.dumps(
        {"domains": ["one.example"], "name": "one", "webroot": str(tmp_path / "webroot"),
         "cert_dir": str(tmp_path / "live")}))
    fd = _hold_elsewhere(str(tmp_path / "live"), "one")
    try:
        assert cli.main(["--config-dir", str(tmp_path), "placeholder", "one"]) == 1
        assert "still holds" in capsys.readouterr().out
    finally:
        os.close(fd)
    assert cli.main(["--config-dir", str(tmp_path), "placeholder", "one"]) == 0


def _live_pair_ok(cert_dir: str, name: str) -> bool:
    """The NAME link resolves to a complete version whose key matches its certificate."""
    try:
        paths = lineage.paths_for(cert_dir, name)
        with open(paths.privkey, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        with open(paths.cert, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        with open(paths.fullchain, "rb") as f:
            complete = f.read().count(b"BEGIN CERTIFICATE") == 2
    except (OSError, ValueError):
        return False
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return complete and key.public_key().public_bytes(*der) == cert.public_key().public_bytes(*der)


def _writer(cert_dir: str, pairs, rounds: int, errors) -> None:
    bad = 0
    for i in range(rounds):
        key, chain = pairs[i % len(pairs)]
        with locks.holding(cert_dir, "a"):
            versions.write(cert_dir, "a", key, chain, {})
        bad += not _live_pair_ok(cert_dir, "a")
    errors.put(bad)


def test_two_writers_racing_300_rounds_never_leave_a_dangling_link(tmp_path):
    pairs = [make_cert(["a.example"]) for _i in range(3)]
    errors = FORK.Queue()
    writers = [FORK.Process(target=_writer, args=(str(tmp_path), pairs, 300, errors)) for _i in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    assert [errors.get(), errors.get()] == [0, 0]
    assert _live_pair_ok(str(tmp_path), "a")
    assert len(os.listdir(tmp_path / ".versions" / "a")) == 2  # the live version and the one before


def _write_forever(cert_dir: str, pairs) -> None:
    i = 0
    while True:
        key, chain = pairs[i % len(pairs)]
        with locks.holding(cert_dir, "a"):
            versions.write(cert_dir, "a", key, chain, {})
        i += 1


def test_a_writer_killed_at_any_point_leaves_a_valid_link_and_an_intact_pair(tmp_path):
    pairs = [make_cert(["a.example"]) for _i in range(3)]
    versions.write(str(tmp_path), "a", *pairs[0], {})
    rng = random.Random(8)
    for _round in range(100):
        writer = FORK.Process(target=_write_forever, args=(str(tmp_path), pairs))
        writer.start()
        time.sleep(rng.uniform(0, 0.03))
        os.kill(writer.pid, signal.SIGKILL)
        writer.join()
        assert _live_pair_ok(str(tmp_path), "a"), f"round {_round}"
    # The next write cleans up what the killed ones left: no temporary links, two versions.
    versions.write(str(tmp_path), "a", *pairs[1], {})
    assert not [e for e in os.listdir(tmp_path) if ".tmp-" in e]
    assert len(os.listdir(tmp_path / ".versions" / "a")) == 2
