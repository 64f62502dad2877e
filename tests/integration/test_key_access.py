"""key_owner, key_group, key_mode and combined, through `ansible`, against Pebble: the key's access
from the first version on, kept by renewals and no-op runs, drift put right and reported; and
combined.pem, the key and the full chain in one file that changes with the swap."""

from __future__ import annotations

import grp
import os
import stat

from .conftest import fqdn, run_module

NOGROUP = grp.getgrnam("nogroup").gr_gid  # present on every Debian host the tests run on


def _access(path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_gid, stat.S_IMODE(info.st_mode)


def _versions(testbed, label) -> list[str]:
    folder = os.path.join(testbed.state, "live", ".versions", fqdn(label))
    return [os.path.join(folder, v) for v in sorted(os.listdir(folder), key=int)]


def test_a_group_readable_key_from_issuance_through_renewal_and_drift(testbed):
    args = testbed.args("keygroup", key_group="nogroup", key_mode="0640")
    first = run_module(args)
    assert first["changed"] is True and "repaired" not in first, first
    assert _access(first["paths"]["privkey"]) == (NOGROUP, 0o640)
    assert _access(first["paths"]["cert"])[1] == 0o644

    again = run_module(args)
    assert again["changed"] is False and "repaired" not in again, again

    renewed = run_module(dict(args, force=True))
    assert renewed["changed"] is True and renewed["serial"] != first["serial"]
    versions = _versions(testbed, "keygroup")
    assert len(versions) == 2
    for folder in versions:
        assert _access(os.path.join(folder, "privkey.pem")) == (NOGROUP, 0o640)

    # Someone's chmod on the live key and on the kept one: a check run says so, a run puts it right.
    for folder in versions:
        os.chmod(os.path.join(folder, "privkey.pem"), 0o600)
    checked = run_module(args, check=True)
    assert checked["changed"] is True and len(checked["repaired"]) == 2, checked
    assert _access(renewed["paths"]["privkey"]) == (NOGROUP, 0o600)
    repaired = run_module(args)
    assert repaired["changed"] is True and repaired["serial"] == renewed["serial"], repaired
    assert sorted(repaired["repaired"]) == sorted(
        f"version {os.path.basename(v)} privkey.pem: mode 0600 -> 0640" for v in versions)
    assert "files put right" in repaired["reason"]
    for folder in versions:
        assert _access(os.path.join(folder, "privkey.pem")) == (NOGROUP, 0o640)
    assert run_module(args)["changed"] is False


def test_combined_is_key_and_full_chain_and_moves_with_the_swap(testbed):
    args = testbed.args("combined", combined=True)
    first = run_module(args)
    assert first["changed"] is True, first
    combined = first["paths"]["combined"]

    def expected() -> bytes:
        with open(first["paths"]["privkey"], "rb") as key, open(first["paths"]["fullchain"], "rb") as chain:
            return key.read() + chain.read()

    with open(combined, "rb") as f:
        assert f.read() == expected()
    assert _access(combined)[1] == 0o600
    # The link swap carries it: after a renewal the path holds the new pair, in the new version.
    renewed = run_module(dict(args, force=True))
    assert renewed["serial"] != first["serial"]
    with open(combined, "rb") as f:
        assert f.read() == expected()
    assert os.path.realpath(combined).startswith(_versions(testbed, "combined")[-1] + os.sep)
    # Off removes it from every version, without a renewal.
    off = run_module(dict(args, combined=False))
    assert off["changed"] is True and off["serial"] == renewed["serial"], off
    assert not any(os.path.exists(os.path.join(v, "combined.pem")) for v in _versions(testbed, "combined"))


def test_bad_key_access_fails_before_any_order(testbed):
    world = run_module(testbed.args("badmode", key_mode="0644"))
    assert world.get("failed") and "lets every user of the host read or change the private key" in world["msg"]
    unknown = run_module(testbed.args("badmode", key_group="zdt-no-such-group", key_mode="0640"))
    assert unknown.get("failed") and "this host has no such group" in unknown["msg"], unknown
    assert not os.path.exists(os.path.join(testbed.state, "live", fqdn("badmode")))
