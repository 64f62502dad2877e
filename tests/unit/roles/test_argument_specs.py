"""Every role variable that the Molecule scenarios and the defaults set is declared in a role's
meta/argument_specs.yml, and the other way round: a typo in a scenario cannot pass unnoticed. The
nginx and apache roles declare their server's own variables; the certificates role, which both run,
all the others."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = [os.path.join(ROOT, "roles", name) for name in ("nginx", "apache", "certificates")]
CERTIFICATES = ROLES[-1]


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def _role_options(role: str, entry_point: str = "main") -> dict:
    return _load(os.path.join(role, "meta", "argument_specs.yml"))["argument_specs"][entry_point]["options"]


def _spec_options() -> dict:
    """What a user of a server's role may set: the server roles' options and the certificates role's."""
    options = {}
    for role in ROLES:
        options.update(_role_options(role))
    return options


def _scenario_variables() -> dict[str, dict]:
    found = {}
    patterns = ["molecule/*/host_vars/*.yml", "molecule/shared/group_vars/*.yml"]
    for pattern in patterns:
        for path in glob.glob(os.path.join(ROOT, pattern)):
            for key, value in _load(path).items():
                if key.startswith("zerodowntime_acme_"):
                    found[f"{os.path.relpath(path, ROOT)}: {key}"] = {key: value}
    return found


def test_scenario_variables_are_in_the_argument_spec():
    options = _spec_options()
    variables = _scenario_variables()
    assert variables, "the scenarios set no role variable: the glob is wrong"
    unknown = [where for where, pair in variables.items() if next(iter(pair)) not in options]
    assert unknown == []


def test_certificate_keys_in_scenarios_are_in_the_argument_spec():
    allowed = set(_spec_options()["zerodowntime_acme_certificates"]["options"])
    for where, pair in _scenario_variables().items():
        for certificate in pair.get("zerodowntime_acme_certificates", []):
            assert set(certificate) <= allowed, where


@pytest.mark.parametrize("role", ROLES, ids=os.path.basename)
def test_defaults_and_argument_spec_agree(role):
    defaults = _load(os.path.join(role, "defaults", "main.yml"))
    options = _role_options(role)
    assert set(defaults) == set(options)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


def test_no_two_roles_share_a_variable():
    nginx, apache, certificates = (set(_role_options(role)) for role in ROLES)
    assert nginx and apache and certificates
    assert not nginx & certificates and not apache & certificates and not nginx & apache


def test_the_validate_entry_point_checks_what_main_checks():
    assert _role_options(CERTIFICATES, "validate") == _role_options(CERTIFICATES)
