"""The lineage on disk and its atomic swap: tests plugins/module_utils/lineage.py."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import files, lineage, versions
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import StorageError
from tests.unit.conftest import make_cert


def _read_files(cert_dir, name):
    paths = lineage.paths_for(str(cert_dir), name)
    return {k: open(p, "rb").read() for k, p in paths.as_dict().items()}


def test_write_then_read(tmp_path):
    key, chain = make_cert(["a.example", "b.example"])
    paths = versions.write(str(tmp_path), "a", key, chain, {"directory_url": "https://ca/dir"}).paths
    got = lineage.read(str(tmp_path), "a")
    assert got.cert.domains == ["a.example", "b.example"]
    assert got.meta["directory_url"] == "https://ca/dir"
    assert got.meta["certificate"]["domains"] == ["a.example", "b.example"]
    files = _read_files(tmp_path, "a")
    assert files["privkey"] == key
    assert files["fullchain"] == files["cert"] + files["chain"]
    assert files["cert"].count(b"BEGIN CERTIFICATE") == 1
    assert files["chain"].count(b"BEGIN CERTIFICATE") == 1
    assert stat.S_IMODE(os.stat(paths.privkey).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.fullchain).st_mode) == 0o644


def test_private_key_is_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        key, chain = make_cert(["a.example"])
        paths = versions.write(str(tmp_path), "a", key, chain, {}).paths
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(paths.privkey).st_mode) == 0o600


def test_read_missing_is_none(tmp_path):
    assert lineage.read(str(tmp_path), "nothing") is None


def test_read_garbage_reports_the_problem(tmp_path):
    os.makedirs(tmp_path / "a")
    (tmp_path / "a" / "cert.pem").write_text("garbage")
    got = lineage.read(str(tmp_path), "a")
    assert got.cert is None and "not a PEM certificate" in got.problem


def test_renewal_keeps_exactly_the_previous_version(tmp_path):
    pairs = []
    for n in range(3):
        key, chain = make_cert([f"v{n}.example"])
        versions.write(str(tmp_path), "a", key, chain, {})
        pairs.append((key, chain))
    kept = sorted(os.listdir(tmp_path / ".versions" / "a"))
    assert kept == ["2", "3"]
    assert os.readlink(tmp_path / "a") == os.path.join(".versions", "a", "3")
    previous = tmp_path / ".versions" / "a" / "2"
    assert (previous / "privkey.pem").read_bytes() == pairs[1][0]


def test_crash_while_writing_leaves_the_old_pair_in_place(tmp_path, monkeypatch):
    old_key, old_chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", old_key, old_chain, {})
    before = _read_files(tmp_path, "a")

    real_write = files.write_new
    calls = []

    def dies_on_third_file(path, data, mode, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(path, data, mode, *args, **kwargs)

    monkeypatch.setattr(files, "write_new", dies_on_third_file)
    new_key, new_chain = make_cert(["a.example"])
    with pytest.raises(StorageError, match="previous files are still in place"):
        versions.write(str(tmp_path), "a", new_key, new_chain, {})
    assert _read_files(tmp_path, "a") == before


def test_crash_before_the_link_swap_leaves_the_old_pair(tmp_path, monkeypatch):
    old_key, old_chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", old_key, old_chain, {})
    before = _read_files(tmp_path, "a")

    def no_rename(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(versions.os, "rename", no_rename)
    new_key, new_chain = make_cert(["a.example"])
    with pytest.raises(StorageError):
        versions.write(str(tmp_path), "a", new_key, new_chain, {})
    assert _read_files(tmp_path, "a") == before


def test_key_and_cert_change_together(tmp_path):
    # Whatever NAME resolves to, its key and certificate belong together: both are read through the
    # one link that the swap replaces.
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    for n in range(2):
        key, chain = make_cert(["a.example"])
        versions.write(str(tmp_path), "a", key, chain, {})
        files = _read_files(tmp_path, "a")
        private = serialization.load_pem_private_key(files["privkey"], None)
        cert = x509.load_pem_x509_certificate(files["cert"])
        assert private.public_key().public_numbers() == cert.public_key().public_numbers()


def test_a_plain_folder_is_adopted_as_the_previous_version(tmp_path):
    old_key, old_chain = make_cert(["a.example"])
    os.makedirs(tmp_path / "a")
    (tmp_path / "a" / "privkey.pem").write_bytes(old_key)
    (tmp_path / "a" / "fullchain.pem").write_bytes(old_chain)
    key, chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, chain, {})
    assert os.path.islink(tmp_path / "a")
    assert (tmp_path / ".versions" / "a" / "0" / "privkey.pem").read_bytes() == old_key


def test_split_fullchain_rejects_no_certificate():
    with pytest.raises(StorageError):
        versions.split_fullchain(b"no pem here")


def test_summary_in_meta_describes_the_certificate(tmp_path):
    key, chain = make_cert(["a.example", "b.example"])
    versions.write(str(tmp_path), "a", key, chain, {})
    from_summary = lineage.read(str(tmp_path), "a").cert
    parsed = lineage.cert_info(open(tmp_path / "a" / "cert.pem", "rb").read())
    assert from_summary == parsed


def test_a_cert_replaced_by_hand_is_parsed_not_taken_from_the_summary(tmp_path):
    key, chain = make_cert(["a.example"])
    versions.write(str(tmp_path), "a", key, chain, {})
    _other_key, other = make_cert(["other.example"])
    (tmp_path / "a" / "cert.pem").write_bytes(versions.split_fullchain(other)[0])
    assert lineage.read(str(tmp_path), "a").cert.domains == ["other.example"]


def test_trouble_after_the_swap_is_a_warning_and_the_new_version_is_live(tmp_path):
    first, second, third = (make_cert(["a.example"]) for _i in range(3))
    versions.write(str(tmp_path), "a", *first, {})
    versions.write(str(tmp_path), "a", *second, {})
    # Version 1 (to be pruned by the next write) holds a folder: pruning it fails.
    os.makedirs(tmp_path / ".versions" / "a" / "1" / "stuck")
    written = versions.write(str(tmp_path), "a", *third, {})
    assert written.version == "3" and len(written.warnings) == 1
    assert "is in place, but cleaning up after it failed" in written.warnings[0]
    assert _read_files(tmp_path, "a")["privkey"] == third[0]


def test_pruning_never_deletes_the_live_version_or_a_newer_one(tmp_path):
    pairs = [make_cert(["a.example"]) for _i in range(3)]
    for pair in pairs:
        versions.write(str(tmp_path), "a", *pair, {})
    folder = tmp_path / ".versions" / "a"
    # Another writer (one that ignored the lock) made version 9 and made it live meanwhile.
    os.rename(folder / "3", folder / "9")
    os.symlink(os.path.join(".versions", "a", "9"), tmp_path / "a.new")
    os.rename(tmp_path / "a.new", tmp_path / "a")
    os.makedirs(folder / "1")  # an old one, left by a run cut short
    (folder / "1" / "cert.pem").write_text("old")
    versions._prune(str(folder), str(tmp_path / "a"), own="4", previous="2")
    assert sorted(os.listdir(folder)) == ["2", "9"]
    assert _read_files(tmp_path, "a")["privkey"] == pairs[2][0]
