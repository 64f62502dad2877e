# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""manage(spec) -> AccountOutcome: the ACME account of a key, as the account module wants it.

Create it (with an external account binding when the CA asks for one), keep its contacts, roll its
key over, or deactivate it. Every step first reads what the CA holds, so a second run changes
nothing; check mode stops after the reading.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from . import accountkeys, files
from .connection import CAConnection
from .errors import AccountError, ConfigError

STATES = ("present", "absent")


@dataclass(frozen=True)
class AccountSpec:
    """The account module's options."""

    ca: CAConnection = field(default_factory=CAConnection)
    account_email: str | None = None
    terms_agreed: bool = False
    state: str = "present"
    new_account_key: str | None = None
    eab_kid: str | None = None
    eab_hmac_key: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> AccountSpec:
        rest = dict(options)
        return cls(ca=CAConnection.take(rest), **rest)


@dataclass
class AccountOutcome:
    """What happened, in the terms of the module's RETURN block."""

    changed: bool
    account_url: str | None
    status: str  # valid, deactivated, or absent (the CA knows no account for the key)
    contacts: list[str]
    actions: list[str] = field(default_factory=list)
    diff: dict[str, dict[str, Any]] = field(default_factory=dict)


def manage(spec: AccountSpec, *, check_mode: bool = False) -> AccountOutcome:
    _check(spec)
    ca = spec.ca.checked()
    key_path = str(ca.account_key)
    wanted = _contacts(spec.account_email)
    if not os.path.exists(key_path):
        return _without_key(spec, key_path, wanted, check_mode)

    from . import client

    with ca.session(create_key=False) as session:
        account = session.find_account()
        outcome = _outcome(account, session.thumbprint())
        if account is None and spec.new_account_key and os.path.exists(spec.new_account_key):
            if _finish_rollover(spec, key_path, outcome, check_mode) is not None:
                return outcome if check_mode else _after(outcome, manage(spec))  # account_key is the new key now
        if spec.state == "absent":
            return _deactivate(session, account, outcome, check_mode)
        if account is not None and account.status == client.DEACTIVATED:
            raise AccountError(f"the ACME account of {key_path} at {ca.directory_url} is deactivated, and an "
                               "account cannot be reactivated; use a new account_key to create a new account")
        if account is None:
            eab = (spec.eab_kid, spec.eab_hmac_key) if spec.eab_kid and spec.eab_hmac_key else None
            session.check_creation(spec.terms_agreed, eab)  # terms and binding: fail in check mode too
            _act(outcome, "created", {"status": "valid", "contacts": list(wanted or ())})
            if not check_mode:
                account = session.create_account(wanted or (), spec.terms_agreed, eab)
                outcome.account_url = account.url
                _remember_contacts(key_path, account.url, wanted or ())
        elif wanted is not None and not _contacts_hold(key_path, account, wanted):
            _act(outcome, "contacts updated", {"contacts": list(wanted)})
            if not check_mode:
                account = session.update_contacts(account, wanted)
                _remember_contacts(key_path, account.url, wanted)
        if spec.new_account_key:
            _roll_over(session, account, spec.new_account_key, key_path, outcome, check_mode)
    return outcome


def _contacts_hold(key_path: str, account: Any, wanted: tuple[str, ...]) -> bool:
    """Whether the account has the wanted contacts. A CA that stores none (Let's Encrypt since
    2025) answers with none whatever was sent: then what this module last sent to this very
    account counts, so that a second run changes nothing."""
    if set(wanted) == set(account.contacts):
        return True
    if account.contacts:
        return False
    sent = files.read_json_object(_contacts_file(key_path))
    return sent.get("account_url") == account.url and sent.get("contacts") == sorted(wanted)


def _remember_contacts(key_path: str, account_url: str, contacts: tuple[str, ...]) -> None:
    """Note, next to the account key, which contacts were last sent to which account."""
    try:
        files.write_json(_contacts_file(key_path), {"account_url": account_url, "contacts": sorted(contacts)}, 0o600)
    except OSError:
        pass  # only idempotence at a CA that drops contacts depends on it: the next run sends them again


def _contacts_file(key_path: str) -> str:
    return key_path + ".contacts.json"


def _after(first: AccountOutcome, rest: AccountOutcome) -> AccountOutcome:
    """`rest`, reported as the continuation of `first` in the same run."""
    rest.changed = True
    rest.actions = first.actions + rest.actions
    rest.diff["before"] = first.diff["before"]
    return rest


def _check(spec: AccountSpec) -> None:
    if spec.state not in STATES:
        raise ConfigError(f"state must be one of {', '.join(STATES)}, not {spec.state!r}")
    if bool(spec.eab_kid) != bool(spec.eab_hmac_key):
        raise ConfigError("an external account binding needs both eab_kid and eab_hmac_key")
    if spec.eab_hmac_key and not re.fullmatch(r"[A-Za-z0-9_-]{16,}={0,2}", spec.eab_hmac_key):
        raise ConfigError("eab_hmac_key is not a base64url-encoded key; paste the HMAC key exactly as the CA gave it")
    if spec.state == "absent" and spec.new_account_key:
        raise ConfigError("new_account_key rolls a key over; it cannot be combined with state=absent")
    if spec.new_account_key and spec.ca.account_key \
            and os.path.abspath(spec.new_account_key) == os.path.abspath(spec.ca.account_key):
        raise ConfigError("new_account_key must be another file than account_key")
    if spec.account_email and ("@" not in spec.account_email or "," in spec.account_email):
        raise ConfigError(f"account_email {spec.account_email!r} is not one e-mail address")


def _contacts(email: str | None) -> tuple[str, ...] | None:
    """The wanted contacts: None leaves them as they are, "" clears them."""
    if email is None:
        return None
    email = email.strip()
    return (email if email.startswith("mailto:") else f"mailto:{email}",) if email else ()


def _without_key(spec: AccountSpec, key_path: str, wanted: tuple[str, ...] | None,
                 check_mode: bool) -> AccountOutcome:
    """No key file: no account to look up. Present creates key and account; absent has nothing to do."""
    outcome = AccountOutcome(changed=False, account_url=None, status="absent", contacts=[],
                             diff={"before": {"status": "absent"}, "after": {"status": "absent"}})
    if spec.state == "absent":
        return outcome
    if not spec.terms_agreed:
        raise AccountError(f"{key_path} does not exist, so a new account would be created; read the CA's terms of "
                           "service and set terms_agreed=true")
    if check_mode:
        _act(outcome, "created", {"status": "valid", "contacts": list(wanted or ())})
        return outcome
    accountkeys.create_key(key_path)
    return manage(spec)


def _outcome(account: Any, thumbprint: str) -> AccountOutcome:
    before: dict[str, Any] = {"status": account.status if account else "absent", "key": thumbprint}
    if account is not None:
        before["contacts"] = list(account.contacts)
    return AccountOutcome(changed=False, account_url=account.url or None if account else None,
                          status=before["status"], contacts=list(before.get("contacts", [])),
                          diff={"before": before, "after": dict(before)})


def _act(outcome: AccountOutcome, action: str, after: dict[str, Any]) -> None:
    outcome.changed = True
    outcome.actions.append(action)
    outcome.diff["after"].update(after)
    outcome.status = outcome.diff["after"]["status"]
    outcome.contacts = list(outcome.diff["after"].get("contacts", []))


def _deactivate(session: Any, account: Any, outcome: AccountOutcome, check_mode: bool) -> AccountOutcome:
    if account is None or account.status == "deactivated":
        return outcome
    _act(outcome, "deactivated", {"status": "deactivated"})
    if not check_mode:
        session.deactivate(account)
    return outcome


def _roll_over(session: Any, account: Any, new_key: str, key_path: str, outcome: AccountOutcome,
               check_mode: bool) -> None:
    """Move the account to the key in `new_key` (created when missing), then write that key to
    `key_path`, so that every task naming account_key goes on working."""
    from . import client

    if not os.path.exists(new_key):
        if check_mode:
            _act(outcome, "key rolled over", {"key": "(a new key)"})
            return
        accountkeys.create_key(new_key)
    new_thumbprint = client.key_thumbprint(new_key)
    if new_thumbprint == session.thumbprint():
        return
    _act(outcome, "key rolled over", {"key": new_thumbprint})
    if check_mode or account is None:
        return
    session.change_key(account, new_key)
    _replace_key_file(key_path, new_key)


def _finish_rollover(spec: AccountSpec, key_path: str, outcome: AccountOutcome, check_mode: bool) -> Any:
    """The CA knows no account for account_key, but one for new_account_key: a rollover whose last
    step (writing the new key to account_key) did not happen. Finish it; None when that is not it."""
    with spec.ca.session(key_path=spec.new_account_key, create_key=False) as session:
        account = session.find_account()
        if account is None:
            return None
        outcome.account_url, outcome.status, outcome.contacts = account.url, account.status, list(account.contacts)
        outcome.diff["before"].update(status=account.status, contacts=list(account.contacts))
        _act(outcome, "key file replaced", {"key": session.thumbprint(), "status": account.status,
                                            "contacts": list(account.contacts)})
    if not check_mode:
        _replace_key_file(key_path, str(spec.new_account_key))
    return account


def _replace_key_file(key_path: str, new_key: str) -> None:
    """Copy the key in `new_key` over `key_path` in one rename, mode 0600."""
    try:
        with open(new_key, "rb") as f:
            files.replace(key_path, f.read(), 0o600)
    except OSError as exc:
        raise AccountError(f"the CA now knows the account by the key in {new_key}, but writing it to "
                           f"{key_path} failed ({exc}); copy it there by hand") from exc
