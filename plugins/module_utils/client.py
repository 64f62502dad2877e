# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACME session, on certbot's `acme` library (ClientV2 over ClientNetwork).

Only a run that talks to a CA imports this module: a run with nothing to do never loads `acme` or
`requests`. Every answer of the CA is checked where it is parsed (types, URLs, times), and every
failure becomes a CAError, AccountError or ChallengeError that names the step and the URL. The
session knows challenges only as pending work for a responder (responder.py): it never words a
message about web servers or URLs to fetch.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import itertools
import os
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterator, Protocol

from . import accountkeys, addresses, ari, carules, keys, problems, times
from .errors import AccountError, AcmeError, CAError, ChallengeError, ConfigError
from .network import Network


class CAConnection(Protocol):
    """What a session needs of connection.CAConnection, which builds the sessions: connection.py
    imports this file, never the other way."""

    @property
    def directory_url(self) -> str: ...

    @property
    def ca_bundle(self) -> str | None: ...

    @property
    def validate_certs(self) -> bool: ...

    @property
    def timeout(self) -> int: ...


try:
    import josepy as jose
    import requests
    from requests import certs as requests_certs
    from acme import messages
    from acme import client as acme_client
    from acme import errors as acme_errors
    from acme import jws as acme_jws
except ImportError as exc:  # connection.require_acme() turns this into a DependencyError
    ACME_IMPORT_ERROR: ImportError | None = exc
else:
    ACME_IMPORT_ERROR = None

USER_AGENT = "zerodowntime-acme/0.1.0"
DEACTIVATED = "deactivated"
# While an authorization or an order is still being processed and the CA sends no Retry-After:
# 0.1 s, doubling, at most 2 s. Internal CAs answer in milliseconds; a Retry-After always wins.
# At most MAX_POLLS polls of one authorization or order, and never past the deadline.
POLL_FIRST = 0.1
POLL_MAX = 2.0
MAX_POLLS = 20
MAX_ALTERNATE_CHAINS = 5
_REQUIRED_URLS = ("newNonce", "newAccount", "newOrder")
_OPTIONAL_URLS = ("revokeCert", "keyChange", "renewalInfo")


@dataclass(frozen=True)
class Account:
    """An ACME account as the CA reports it."""

    url: str
    status: str
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class Pending:
    """One challenge of an order that a responder must present before the CA validates it."""

    identifier: str
    token: str
    key_authorization: str
    authorization_url: str
    challenge: Any  # the library's ChallengeBody, handed back to answer()


if ACME_IMPORT_ERROR is None:

    class _NewOrder(messages.NewOrder):
        """newOrder with the fields that the library's message lacks in older releases (Debian 12
        ships acme 2.1): `profile` (draft-aaron-acme-profiles) and `replaces` (RFC 9773 ARI)."""

        profile: str | None = jose.field("profile", omitempty=True)
        replaces: str | None = jose.field("replaces", omitempty=True)

    class _Finalize(jose.JSONObjectWithFields):
        """finalize's payload: base64url DER, the same on every release of the library (whose own
        message wants pyOpenSSL objects before 3.x and cryptography ones after)."""

        csr: str = jose.field("csr")

    class _Revocation(jose.JSONObjectWithFields):
        """revokeCert's payload, in base64url DER for the same reason."""

        certificate: str = jose.field("certificate")
        reason: int = jose.field("reason")

    class _KeyChange(jose.JSONObjectWithFields):
        """The inner payload of a key rollover (RFC 8555 7.3.5); the library has no message for it."""

        account: str = jose.field("account")
        old_key: jose.JWK = jose.field("oldKey", encoder=lambda key: key.to_partial_json())


class Session:
    """One conversation with one ACME server, signed with one account key, within one deadline."""

    def __init__(self, connection: CAConnection, account_key_path: str | None, *, create_key: bool = True,
                 pool: SessionPool | None = None) -> None:
        """Without an account key the session can only read (directory, renewal information). A
        missing key file is created, unless `create_key` is false (then it is an AccountError).
        A session of a `pool` takes the directory and the account URL the pool already knows, and
        stays open until the pool closes."""
        self.directory_url = connection.directory_url
        self.timeout = connection.timeout
        self.deadline = time.monotonic() + connection.timeout
        self.warnings: list[str] = []
        self._bundle_file: str | None = None
        self._pool = pool
        self._account_key_path = account_key_path
        jwk, alg = _account_jwk(account_key_path, create_key) if account_key_path else (None, jose.RS256)
        self.jwk = jwk
        self._net = Network(key=jwk, alg=alg, verify_ssl=self._trust(connection.ca_bundle, connection.validate_certs),
                            user_agent=USER_AGENT, deadline=self.deadline)
        try:
            known = pool.directory(connection) if pool else None
            if known is None:
                with self._step("fetching the ACME directory", self.directory_url):
                    # Kept as checked JSON too: older releases of the library drop the meta fields they
                    # don't know (and from_json() rewrites the dict it is given, hence the copy).
                    self._directory_json = self._checked_directory(self._net.get(self.directory_url).json())
                if pool:
                    pool.keep_directory(connection, self._directory_json, self.warnings)
            else:
                self._directory_json, self.warnings = known[0], list(known[1])
            directory = messages.Directory.from_json(copy.deepcopy(self._directory_json))
        except BaseException:
            self.close()  # the trust bundle's temporary file
            raise
        self._directory_warnings = list(self.warnings)
        self._client = acme_client.ClientV2(directory, self._net)

    def restart_clock(self) -> None:
        """A new deadline for the next certificate of a pooled session; its warnings start afresh."""
        self.deadline = time.monotonic() + self.timeout
        self._net.deadline = self.deadline
        self.warnings = list(self._directory_warnings)

    def close(self) -> None:
        if self._bundle_file:
            os.unlink(self._bundle_file)
            self._bundle_file = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is None:
            self.close()  # a pooled session is closed by its pool

    # Account -----------------------------------------------------------------------------------

    def ensure_account(self, email: str | None, terms_agreed: bool) -> str:
        """Use the account of this key, creating it when the CA knows none; return its URL. In a
        pool, the account is looked up once per CA and key for the whole run (the other threads
        wait for that lookup)."""
        if self._pool is None:
            return self._find_or_create_account(email, terms_agreed)
        with self._pool.accounts_lock:
            url = self._pool.account(self.directory_url, self._account_key_path)
            if url:
                self._net.account = messages.RegistrationResource(uri=url, body=messages.Registration())
                return url
            url = self._find_or_create_account(email, terms_agreed)
            self._pool.keep_account(self.directory_url, self._account_key_path, url)
            return url

    def _find_or_create_account(self, email: str | None, terms_agreed: bool) -> str:
        account = self.find_account()
        if account is not None and account.status == DEACTIVATED:
            raise AccountError(f"the ACME account of this key at {self.directory_url} is deactivated, and an "
                               "account cannot be reactivated; point account_key at a new key")
        if account is not None:
            return account.url
        return self.create_account(_contacts(email), terms_agreed).url

    def find_account(self) -> Account | None:
        """The account of this key, or None when the CA knows none (RFC 8555 7.3.1)."""
        new_account_url = self._url("newAccount")
        url = ""
        with self._step("looking up the ACME account", new_account_url):
            try:
                self._client.new_account(messages.NewRegistration(only_return_existing=True))
            except acme_errors.ConflictError as found:  # the library's way to say "it exists"
                url = found.location
            except messages.Error as error:
                if problems.code(error) == "accountDoesNotExist":
                    return None
                if problems.code(error) == "unauthorized":  # the key is known, but its account was deactivated
                    return Account(url="", status=DEACTIVATED, contacts=())
                raise
        if not _is_https_url(url):
            raise CAError(f"{new_account_url} answered a lookup (onlyReturnExisting) without the account's URL")
        self._net.account = messages.RegistrationResource(uri=url, body=messages.Registration())
        with self._step("reading the ACME account", url):
            return _account(url, self._client._post_as_get(url).json())

    def create_account(self, contacts: tuple[str, ...], terms_agreed: bool,
                       eab: tuple[str, str] | None = None) -> Account:
        """Create the account of this key, with an external account binding when given."""
        self.check_creation(terms_agreed, eab)
        binding = None
        if eab is not None:
            try:
                binding = messages.ExternalAccountBinding.from_data(self._signing_key().public_key(), eab[0], eab[1],
                                                                    self._client.directory)
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"eab_hmac_key is not a base64url-encoded key ({exc})") from exc
        registration = messages.NewRegistration.from_data(
            terms_of_service_agreed=True, external_account_binding=binding)
        registration = registration.update(contact=contacts)
        new_account_url = self._url("newAccount")
        with self._step("creating the ACME account", new_account_url):
            try:
                created = self._client.new_account(registration)
            except acme_errors.ConflictError:  # created meanwhile by a concurrent run
                found = self.find_account()
                if found is None:
                    raise
                return found
            if not _is_https_url(created.uri):
                raise CAError(f"{new_account_url} created the account without its URL (Location)")
            return _account(created.uri, created.body.to_json())

    def check_creation(self, terms_agreed: bool, eab: tuple[str, str] | None) -> None:
        """Raise what would stop an account's creation: terms not agreed, a binding the CA requires."""
        if not terms_agreed:
            terms = self._meta().get("termsOfService")
            raise AccountError(
                f"no ACME account exists for this account key at {self.directory_url}; read the CA's "
                f"terms of service{' at ' + terms if terms else ''} and set terms_agreed=true to create one"
            )
        if eab is None and self.external_account_required():
            raise AccountError(f"the CA at {self.directory_url} requires an external account binding to create "
                               "an account: create it with zerodowntime.acme.account and eab_kid/eab_hmac_key")

    def update_contacts(self, account: Account, contacts: tuple[str, ...]) -> Account:
        with self._step("updating the account's contacts", account.url):
            response = self._client._post(account.url, messages.UpdateRegistration(contact=contacts))
            return _account(account.url, response.json())

    def deactivate(self, account: Account) -> Account:
        with self._step("deactivating the ACME account", account.url):
            response = self._client._post(account.url, messages.UpdateRegistration(status=messages.STATUS_DEACTIVATED))
            return _account(account.url, response.json())

    def change_key(self, account: Account, new_key_path: str) -> None:
        """Roll the account over to the key at `new_key_path` (RFC 8555 7.3.5): an inner JWS signed
        by the new key (the library's JWS, with no nonce) inside the usual request."""
        new_jwk, new_alg = _account_jwk(new_key_path, create=False)
        url = self._url("keyChange")
        inner = acme_jws.JWS.sign(
            _KeyChange(account=account.url, old_key=self._signing_key().public_key()).json_dumps().encode(),
            key=new_jwk, alg=new_alg, nonce=None, url=url)
        with self._step("rolling the account key over", url):
            self._client._post(url, inner)

    def _signing_key(self) -> jose.JWK:
        if self.jwk is None:
            raise AccountError("this request needs an account key")
        return self.jwk

    def revoke(self, cert_pem: bytes, reason: int) -> bool:
        """Revoke a certificate (RFC 8555 7.6), signed by this session's key: the account's, or the
        certificate's own. False when the CA says it was already revoked."""
        url = self._url("revokeCert")
        der = keys.pem_to_der(cert_pem)
        with self._step("revoking the certificate", url):
            try:
                self._client._post(url, _Revocation(certificate=jose.b64encode(der).decode(), reason=reason))
            except messages.Error as error:
                if problems.code(error) == "alreadyRevoked":
                    return False
                raise
        return True

    def external_account_required(self) -> bool:
        return self._meta().get("externalAccountRequired") is True

    def thumbprint(self) -> str:
        return jose.b64encode(self._signing_key().thumbprint()).decode()

    # Order -------------------------------------------------------------------------------------

    def profiles(self) -> dict[str, str]:
        """The profiles the CA offers (name -> description); empty when it offers none."""
        return dict(self._meta().get("profiles") or {})

    def has_ari(self) -> bool:
        return "renewalInfo" in self._directory_json

    def renewal_info(self, cert_id: str) -> tuple[datetime.datetime, datetime.datetime, datetime.timedelta]:
        """The CA's suggested window for a certificate (RFC 9773), and when to ask again."""
        url = f"{self._url('renewalInfo').rstrip('/')}/{cert_id}"
        with self._step("fetching the renewal information (ARI)", url):
            response = self._net.get(url, content_type="application/json")
        try:
            suggested = response.json()["suggestedWindow"]
            start, end = times.parse_rfc3339(suggested["start"]), times.parse_rfc3339(suggested["end"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CAError(f"{url} answered renewal information without a usable suggestedWindow "
                          f"({problems.clean(exc)})") from exc
        if end <= start:
            raise CAError(f"{url} answered a renewal window that ends ({times.iso(end)}) before it starts "
                          f"({times.iso(start)})")
        return start, end, times.retry_after(response.headers.get("Retry-After"), ari.DEFAULT_RETRY_AFTER) \
            or ari.DEFAULT_RETRY_AFTER

    def new_order(self, domains: list[str], profile: str | None = None,
                  replaces: str | None = None) -> tuple[messages.OrderResource, str | None, str | None]:
        """Place an order for `domains`, with a profile and the certificate it replaces (ARI).
        Returns the order, the `replaces` it carried, and a warning when the CA refused `replaces`
        and the order went out again without it."""
        url = self._url("newOrder")
        with self._step("placing the order", url):
            try:
                return self._place_order(url, domains, profile, replaces), replaces, None
            except (messages.Error, acme_errors.ConflictError) as error:
                conflict = isinstance(error, acme_errors.ConflictError)
                if not replaces or not carules.order_again_without_replaces(
                        None if conflict else problems.code(error), conflict):
                    raise
                refused = problems.describe(error) if isinstance(error, messages.Error) else "409 Conflict"
            warning = (f"the CA refused the order that replaces {replaces} ({refused}); ordered again without "
                       "`replaces`, so this renewal counts against the CA's rate limits")
            return self._place_order(url, domains, profile, None), None, warning

    def _place_order(self, url: str, domains: list[str], profile: str | None,
                     replaces: str | None) -> messages.OrderResource:
        # ClientV2.new_order() cannot send `replaces`: post our message, then load the
        # authorizations as the library does (its _post/_authzr_from_response sign and parse).
        identifiers = [messages.Identifier(value=d, typ=messages.IDENTIFIER_IP if addresses.ip(d)
                                           else messages.IDENTIFIER_FQDN) for d in domains]
        response = self._client._post(url, _NewOrder(identifiers=identifiers, profile=profile, replaces=replaces))
        body = messages.Order.from_json(response.json())
        order_url = response.headers.get("Location")
        urls = body.authorizations
        if not _is_https_url(order_url) or not _is_https_url(body.finalize):
            raise CAError(f"{url} answered the new order without https URLs for the order and its finalization")
        if not isinstance(urls, (list, tuple)) or not 0 < len(urls) <= len(domains) \
                or not all(_is_https_url(u) for u in urls):
            raise CAError(f"{url} answered the new order with {problems.clean(urls)!r} as its authorizations; "
                          f"expected one https URL per name ordered ({len(domains)})")
        authorizations = [self._client._authzr_from_response(self._client._post_as_get(authz), uri=authz)
                          for authz in urls]
        return messages.OrderResource(body=body, uri=order_url, authorizations=authorizations)

    def pending_challenges(self, order: messages.OrderResource, kind: str, domains: list[str]) -> list[Pending]:
        """The challenges of type `kind` still to answer. Authorizations the CA already holds as
        valid (reused from an earlier order) need nothing."""
        pending = []
        for authz in order.authorizations:
            domain = problems.clean(getattr(authz.body.identifier, "value", None))
            if getattr(authz.body, "wildcard", None) is True and isinstance(domain, str):
                domain = "*." + domain  # RFC 8555 7.1.4: the authorization of *.NAME is for NAME, marked wildcard
            if domain not in domains:
                raise CAError(f"the CA sent an authorization for {domain!r}, which was not ordered ({', '.join(domains)})")
            status = authz.body.status
            if status == messages.STATUS_VALID:
                continue
            if status != messages.STATUS_PENDING:
                raise ChallengeError(f"the CA's authorization for {domain} is {status}; run again for a new order")
            challb = next((c for c in authz.body.challenges if getattr(c.chall, "typ", None) == kind), None)
            if challb is None or not _is_https_url(challb.uri):
                raise ChallengeError(f"the CA offers no {kind} challenge for {domain}; this collection does only {kind}")
            pending.append(Pending(domain, challb.chall.encode("token"), challb.chall.key_authorization(self.jwk),
                                   authz.uri, challb))
        return pending

    def answer(self, challenge: Pending) -> None:
        with self._step(f"answering the challenge for {challenge.identifier}", challenge.challenge.uri):
            # Posted as is: the library's answer_challenge() also insists on a Link "up" header,
            # which the protocol does not need.
            self._client._post(challenge.challenge.uri, challenge.challenge.chall.response(self.jwk))

    def wait_valid(self, challenge: Pending) -> None:
        """Poll an authorization until valid, honouring Retry-After within the deadline.

        A failed challenge (carules.challenge_failed) is final at once, even while its
        authorization stays pending; one the CA is still retrying is waited for, and its error is
        named if the deadline comes first."""
        url = challenge.authorization_url
        for polls in itertools.count():
            with self._step(f"polling the authorization for {challenge.identifier}", url):
                response = self._client._post_as_get(url)
                authz = messages.Authorization.from_json(response.json())
            ours = next((c for c in authz.challenges if c.uri == challenge.challenge.uri), None)
            error = getattr(ours, "error", None)
            if authz.status == messages.STATUS_VALID:
                return
            status = getattr(ours, "status", None)
            if carules.challenge_failed(_status(authz.status) or "", _status(status), bool(error)):
                reported = problems.describe(error) if error else f"the authorization is {authz.status}"
                raise ChallengeError(f"the CA could not validate {challenge.identifier}: {reported}")
            self._pause(response, polls, f"the CA did not validate {challenge.identifier}"
                        + (f" (the challenge reports {problems.describe(error)})" if error else ""))

    def finalize(self, order: messages.OrderResource, csr_der: bytes, alternatives: bool = False) -> list[bytes]:
        """Send the CSR, wait for the certificate, and return the full chain as the CA sent it,
        followed by the alternate chains it offers when `alternatives` is set."""
        with self._step("finalizing the order", order.body.finalize):
            response = self._client._post(order.body.finalize, _Finalize(csr=jose.b64encode(csr_der).decode()))
            body = messages.Order.from_json(response.json())
        polls = -1  # the first poll goes out at once, as for an authorization
        while not (body.status == messages.STATUS_VALID and body.certificate):
            if body.status == messages.STATUS_INVALID:
                reported = problems.describe(body.error) if body.error else "no reason given"
                raise CAError(f"the CA refused to issue the certificate of {order.uri}: {reported}")
            if polls >= 0:
                self._pause(response, polls, "the CA did not issue the certificate")
            polls += 1
            with self._step("polling the order", order.uri):
                response = self._client._post_as_get(order.uri)
                body = messages.Order.from_json(response.json())
        if not _is_https_url(body.certificate):
            raise CAError(f"{order.uri} names its certificate at {problems.clean(body.certificate)!r}, not an https URL")
        with self._step("downloading the certificate", body.certificate):
            response = self._client._post_as_get(body.certificate)
        chains = [response.content]
        for url in _alternate_links(response)[:MAX_ALTERNATE_CHAINS] if alternatives else []:
            with self._step("downloading an alternate chain", url):
                chains.append(self._client._post_as_get(url).content)
        return chains

    def _pause(self, response: requests.Response, polls: int, what: str) -> None:
        """Sleep before poll number `polls` + 2 (the first goes out at once): the CA's Retry-After,
        or else 0.1 s doubling per poll up to 2 s; raise when that would pass the deadline or
        MAX_POLLS."""
        if polls + 1 >= MAX_POLLS:
            raise CAError(f"{what} after {MAX_POLLS} polls; try again later")
        asked = times.retry_after(response.headers.get("Retry-After"), None)
        wait = asked.total_seconds() if asked else min(POLL_FIRST * 2 ** polls, POLL_MAX)
        if wait >= self.deadline - time.monotonic():
            said = f"; the CA asks to wait {int(wait)} s more" if asked else ""
            raise CAError(f"{what} within the timeout of {self.timeout} s{said}; try again later, or raise timeout")
        time.sleep(wait)

    # The directory -----------------------------------------------------------------------------

    def _url(self, name: str) -> str:
        url = self._directory_json.get(name)
        if not url:
            raise CAError(f"the ACME directory at {self.directory_url} offers no {name}")
        return str(url)

    def _meta(self) -> dict[str, Any]:
        return dict(self._directory_json.get("meta") or {})

    def _checked_directory(self, data: Any) -> dict[str, Any]:
        """The directory with every field of the right type. A required URL that is missing or
        wrong is an error; a wrong optional field is dropped with a warning."""
        if not isinstance(data, dict):
            raise CAError(f"{self.directory_url} is not an ACME directory: its answer is not a JSON object")
        checked: dict[str, Any] = {}
        for name in _REQUIRED_URLS:
            if not _is_https_url(data.get(name)):
                raise CAError(f"{self.directory_url} is not a usable ACME directory: its {name} is "
                              f"{'missing' if name not in data else 'not an https URL'}")
            checked[name] = data[name]
        for name in _OPTIONAL_URLS:
            if name in data and _is_https_url(data[name]):
                checked[name] = data[name]
            elif name in data:
                self.warnings.append(f"the CA's directory has a {name} that is not an https URL "
                                     f"({problems.clean(data[name])!r}); ignored")
        meta = data.get("meta", {})
        checked["meta"] = self._checked_meta(meta) if isinstance(meta, dict) else {}
        if not isinstance(meta, dict):
            self.warnings.append("the CA's directory has a meta field that is not an object; ignored")
        return checked

    def _checked_meta(self, meta: dict[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for name, ok in (("termsOfService", lambda v: isinstance(v, str)),
                         ("website", lambda v: isinstance(v, str)),
                         ("externalAccountRequired", lambda v: isinstance(v, bool)),
                         ("caaIdentities", lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v)),
                         ("profiles", lambda v: isinstance(v, dict)
                          and all(isinstance(k, str) and isinstance(d, str) for k, d in v.items()))):
            if name not in meta:
                continue
            if ok(meta[name]):
                checked[name] = meta[name]
            else:
                self.warnings.append(f"the CA's directory has a meta.{name} of the wrong type "
                                     f"({problems.clean(meta[name])!r}); ignored")
        return checked

    # Errors ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _step(self, what: str, url: str) -> Iterator[None]:
        """Turn the library's and the network's exceptions into one CAError naming the step."""
        try:
            yield
        except AcmeError:
            raise
        except Exception as error:  # every other exception here comes from the CA's answers
            message = problems.failure(what, url, error)
            until = self._net.throttled_until
            if until is not None and until > times.now():
                message += f"; the CA asks not to be asked again before {until:%Y-%m-%d %H:%M:%S} UTC"
                raise CAError(message, retry_after=until) from error
            raise CAError(message) from error

    def _trust(self, ca_bundle: str | None, validate_certs: bool) -> bool | str:
        """What requests should verify the CA's TLS certificate with: the default trust store plus
        `ca_bundle` (extra CAs, not instead of the usual ones)."""
        if not validate_certs:
            return False
        if not ca_bundle:
            return True
        try:
            with open(requests_certs.where(), "rb") as f:  # type: ignore[attr-defined]  # absent from the stubs
                default = f.read()
            with open(ca_bundle, "rb") as f:
                extra = f.read()
        except OSError as exc:
            raise ConfigError(f"cannot read ca_bundle {ca_bundle}: {exc.strerror}") from exc
        fd, self._bundle_file = tempfile.mkstemp(prefix="zerodowntime-acme-ca-", suffix=".pem")
        with os.fdopen(fd, "wb") as f:
            f.write(default + b"\n" + extra)
        return self._bundle_file


class SessionPool:
    """The sessions of a run that handles several certificates (the host CLI's renew): each CA's
    directory is fetched once and each account looked up once; a thread reuses its own session
    (a nonce is never shared between threads), with a fresh deadline for each certificate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._creating = threading.Lock()  # one session made at a time: the directory is fetched once
        self.accounts_lock = threading.Lock()
        self._directories: dict[tuple[Any, ...], tuple[dict[str, Any], list[str]]] = {}
        self._accounts: dict[tuple[str, str | None], str] = {}
        self._sessions: dict[tuple[Any, ...], Session] = {}

    def session(self, connection: CAConnection, key_path: str | None, create_key: bool) -> Session:
        key = (threading.get_ident(), _trust_key(connection), connection.timeout, key_path)
        with self._lock:
            found = self._sessions.get(key)
        if found is None:
            with self._creating:  # also creates a missing account key once
                found = Session(connection, key_path, create_key=create_key, pool=self)
            with self._lock:
                self._sessions[key] = found
        found.restart_clock()
        return found

    def directory(self, connection: CAConnection) -> tuple[dict[str, Any], list[str]] | None:
        with self._lock:
            return self._directories.get(_trust_key(connection))

    def keep_directory(self, connection: CAConnection, directory: dict[str, Any], warnings: list[str]) -> None:
        with self._lock:
            self._directories.setdefault(_trust_key(connection), (directory, list(warnings)))

    def account(self, directory_url: str, key_path: str | None) -> str | None:
        with self._lock:
            return self._accounts.get((directory_url, key_path))

    def keep_account(self, directory_url: str, key_path: str | None, url: str) -> None:
        with self._lock:
            self._accounts[(directory_url, key_path)] = url

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


def _trust_key(connection: CAConnection) -> tuple[str, str | None, bool]:
    """What makes a directory the same one: its URL and how its certificate is trusted."""
    return connection.directory_url, connection.ca_bundle, connection.validate_certs


def _is_https_url(value: Any) -> bool:
    if not isinstance(value, str) or not value.isascii() or any(c.isspace() for c in value):
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme == "https" and bool(parts.netloc)


def _alternate_links(response: requests.Response) -> list[str]:
    """The https URLs of the response's Link rel="alternate" headers (RFC 8555 7.4.2)."""
    links = requests.utils.parse_header_links(response.headers.get("Link", ""))
    return [link["url"] for link in links if link.get("rel") == "alternate" and _is_https_url(link.get("url"))]


def _status(status: Any) -> str | None:
    """The name of one of the library's Status constants (None stays None)."""
    return getattr(status, "name", None) if status is not None else None


def _contacts(email: str | None) -> tuple[str, ...]:
    return (f"mailto:{email}",) if email else ()


def _account(url: str, body: Any) -> Account:
    contacts = (body.get("contact") or []) if isinstance(body, dict) else None
    status = body.get("status", "valid") if isinstance(body, dict) else None
    if not isinstance(contacts, (list, tuple)) or not all(isinstance(c, str) for c in contacts) \
            or not isinstance(status, str):
        raise CAError(f"{url} answered an account that is not an ACME account object")
    return Account(url=url, status=status, contacts=tuple(contacts))


def key_thumbprint(path: str) -> str:
    """The RFC 7638 thumbprint of the account key at `path` (public: safe to show)."""
    return jose.b64encode(_account_jwk(path, create=False)[0].thumbprint()).decode()


def _account_jwk(path: str, create: bool = True) -> tuple[jose.JWK, jose.JWASignature]:
    """The account key at `path` (accountkeys.py reads or creates it) as a JWK and its algorithm."""
    key = accountkeys.load(path, create)
    key_type = keys.type_of(key.public_key())
    if key_type == "ec256":
        return jose.JWKEC(key=key), jose.ES256
    if key_type == "ec384":
        return jose.JWKEC(key=key), jose.ES384
    if key_type and key_type.startswith("rsa"):
        return jose.JWKRSA(key=key), jose.RS256
    raise AccountError(f"the account key {path} is of an unsupported type; use an EC P-256/P-384 or RSA key")
