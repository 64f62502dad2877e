"""Every role variable that the Molecule scenarios and the defaults set is declared in the role's
meta/argument_specs.yml, and the other way round: a typo in a scenario cannot pass unnoticed."""

from __future__ import annotations

import glob
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "nginx")


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def _spec_options() -> dict:
    return _load(os.path.join(ROLE, "meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]


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


def test_defaults_and_argument_spec_agree():
    defaults = _load(os.path.join(ROLE, "defaults", "main.yml"))
    options = _spec_options()
    assert set(defaults) == set(options)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name
