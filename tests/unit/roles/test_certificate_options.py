"""A certificate's options are listed in five places: the certificate module's argument spec, the
engine's CertificateSpec (what cron reads from certificates/NAME.json), the role's argument spec
for zerodowntime_acme_certificates items, the role's specs.j2 (item -> options) and its
certificate task. An option added to one and forgotten in another fails here; what one of them
leaves out on purpose is listed with the reason (issue 20). The role's task is the list module
(zerodowntime.acme.certificates), whose elements take the certificate module's options (issue 22)."""

from __future__ import annotations

import dataclasses
import os
import re

import yaml

from ansible_collections.zerodowntime.acme.plugins.module_utils import connection
from ansible_collections.zerodowntime.acme.plugins.module_utils.certargs import CERTIFICATE_SPEC
from ansible_collections.zerodowntime.acme.plugins.module_utils.connection import CAConnection
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec
from ansible_collections.zerodowntime.acme.plugins.modules.certificate import ARGUMENT_SPEC
from ansible_collections.zerodowntime.acme.plugins.modules.certificates import ARGUMENT_SPEC as LIST_ARGUMENT_SPEC

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "certificates")

# What the engine stores for cron: the certificate's options and its CA connection's.
STORED = {f.name for f in dataclasses.fields(CertificateSpec)} - {"ca"} | {f.name for f in dataclasses.fields(CAConnection)}
# For one run only (ensure()'s argument), never stored.
RUN_OPTIONS = {"force"}
# Pools: set by the role from the inventory (the issuer's item, the play's members), not by a module user.
POOL_OPTIONS = {"issuer", "members"}
# The role does not offer these per item: the defaults suit a fleet, and a playbook that needs them
# calls the module itself.
MODULE_ONLY = {"profile_required", "self_check", "timeout", "validate_certs"}
# The role's certificate task leaves these to cron's NAME.json: the handler's `zerodowntime-acme
# reload` reloads the services and runs the hooks, once for the whole play.
RUN_BY_THE_HANDLER = {"reload_services", "deploy_hook"}
# Role item keys that are not options of the certificate: its lifecycle in the list.
ITEM_ONLY = {"state", "purge", "force"}
# Filled from role variables shared by every item, not from the item.
FROM_ROLE_VARIABLES = {"domains", "name", "webroot", "cert_dir", "directory_url", "ca_bundle", "account_key",
                       "account_email", "terms_agreed", "members"}


def _load(path: str):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _template() -> str:
    with open(os.path.join(ROLE, "templates", "specs.j2"), encoding="utf-8") as f:
        return f.read()


def test_the_module_takes_every_stored_option_but_the_pools_and_one_run_option():
    assert set(ARGUMENT_SPEC) == STORED - POOL_OPTIONS | RUN_OPTIONS


def test_specs_j2_writes_every_stored_option_the_role_offers():
    written = set(re.findall(r"'(\w+)':", _template()))
    assert written == STORED - MODULE_ONLY


def test_the_roles_certificates_task_passes_every_module_option_it_offers():
    task = next(t for t in _load(os.path.join(ROLE, "tasks", "certificates.yml"))
                if "zerodowntime.acme.certificates" in t)
    given_once = set(task["zerodowntime.acme.certificates"]) - {"certificates"}
    per_element = set(_load(os.path.join(ROLE, "vars", "main.yml"))["_zerodowntime_acme_element_options"])
    with open(os.path.join(ROLE, "templates", "issuing.j2"), encoding="utf-8") as f:
        assert "'force': certificate.force" in f.read()
    assert given_once | per_element | RUN_OPTIONS == set(ARGUMENT_SPEC) - MODULE_ONLY - RUN_BY_THE_HANDLER
    assert given_once <= set(connection.ARGUMENT_SPEC) and not per_element & set(connection.ARGUMENT_SPEC)


def test_an_element_of_the_list_module_takes_the_certificate_modules_options_but_the_handlers():
    elements = LIST_ARGUMENT_SPEC["certificates"]["options"]
    assert set(elements) == set(CERTIFICATE_SPEC) - RUN_BY_THE_HANDLER
    assert all(elements[key] == CERTIFICATE_SPEC[key] for key in elements)


def test_every_item_key_the_role_documents_reaches_the_certificate():
    documented = set(_load(os.path.join(ROLE, "meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]
                     ["zerodowntime_acme_certificates"]["options"])
    read_from_item = set(re.findall(r"certificate\.(\w+)", _template()))
    assert documented - ITEM_ONLY == read_from_item | {"domains", "name"}  # these two through the validated filter
    assert read_from_item == STORED - MODULE_ONLY - FROM_ROLE_VARIABLES
