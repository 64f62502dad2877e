# Copyright: zerodowntime.acme contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACME session, on certbot's `acme` library (ClientV2 over ClientNetwork).

Only issuance.py imports this module, and only once a certificate is due: a run with nothing to do
never loads `acme` or `requests`.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import os
import re
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Iterator

from . import ari, files, keys
from .network import Network, retry_after
from .errors import AccountError, CAError, ChallengeError, ConfigError, StorageError

try:
    import josepy as jose
    import requests
    from requests import certs as requests_certs
    from acme import challenges, messages
    from acme import client as acme_client
    from acme import errors as acme_errors
    from acme import jws as acme_jws
except ImportError as exc:  # issuance.py turns this into a DependencyError
    ACME_IMPORT_ERROR: ImportError | None = exc
else:
    ACME_IMPORT_ERROR = None

USER_AGENT = "zerodowntime-acme/0.1.0"
NETWORK_TIMEOUT = 30


DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class Account:
    """An ACME account as the CA reports it."""

    url: str
    status: str
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class Http01:
    """One pending http-01 challenge of an order."""

    domain: str
    token: str
    key_authorization: str
    authorization: messages.AuthorizationResource
    challenge: messages.ChallengeBody


if ACME_IMPORT_ERROR is None:

    class _NewOrder(messages.NewOrder):
        """newOrder with the fields that the library's message lacks in older releases (Debian 12
        ships acme 2.1): `profile` (draft-aaron-acme-profiles) and `replaces` (RFC 9773 ARI)."""

        profile: str | None = jose.field("profile", omitempty=True)
        replaces: str | None = jose.field("replaces", omitempty=True)

    class _Revocation(jose.JSONObjectWithFields):
        """revokeCert's payload. The library's message wants an X509 object of the library's own
        release (pyOpenSSL before 3.x, cryptography after); base64url DER is the same on both."""

        certificate: str = jose.field("certificate")
        reason: int = jose.field("reason")

    class _KeyChange(jose.JSONObjectWithFields):
        """The inner payload of a key rollover (RFC 8555 7.3.5); the library has no message for it."""

        account: str = jose.field("account")
        old_key: jose.JWK = jose.field("oldKey", encoder=lambda key: key.to_partial_json())


class Session:
    """One conversation with one ACME server, signed with one account key."""

    def __init__(self, directory_url: str, account_key_path: str | None, *, ca_bundle: str | None,
                 validate_certs: bool, timeout: int = NETWORK_TIMEOUT, create_key: bool = True) -> None:
        """Without an account key the session can only read (directory, renewal information). A
        missing key file is created, unless `create_key` is false (then it is an AccountError)."""
        self.directory_url = directory_url
        self._bundle_file: str | None = None
        jwk, alg = _account_jwk(account_key_path, create_key) if account_key_path else (None, jose.RS256)
        self.jwk = jwk
        self._net = Network(key=jwk, alg=alg, verify_ssl=self._trust(ca_bundle, validate_certs),
                            user_agent=USER_AGENT, timeout=timeout)
        with self._step("fetching the ACME directory", directory_url):
            # Kept as JSON too: older releases of the library drop the meta fields they don't know
            # (and from_json() rewrites the dict it is given, hence the copy).
            self._directory_json: dict[str, Any] = self._net.get(directory_url).json()
            directory = messages.Directory.from_json(copy.deepcopy(self._directory_json))
        self._client = acme_client.ClientV2(directory, self._net)

    def close(self) -> None:
        if self._bundle_file:
            os.unlink(self._bundle_file)
            self._bundle_file = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Account -----------------------------------------------------------------------------------

    def ensure_account(self, email: str | None, terms_agreed: bool) -> str:
        """Use the account of this key, creating it when the CA knows none; return its URL."""
        account = self.find_account()
        if account is not None and account.status == DEACTIVATED:
            raise AccountError(f"the ACME account of this key at {self.directory_url} is deactivated, and an "
                               "account cannot be reactivated; point account_key at a new key")
        if account is not None:
            return account.url
        return self.create_account(_contacts(email), terms_agreed).url

    def find_account(self) -> Account | None:
        """The account of this key, or None when the CA knows none (RFC 8555 7.3.1)."""
        new_account_url = self._client.directory["newAccount"]
        url = ""
        with self._step("looking up the ACME account", new_account_url):
            try:
                self._client.new_account(messages.NewRegistration(only_return_existing=True))
            except acme_errors.ConflictError as found:  # the library's way to say "it exists"
                url = found.location
            except messages.Error as error:
                if error.code == "accountDoesNotExist":
                    return None
                if error.code == "unauthorized":  # the key is known, but its account was deactivated
                    return Account(url="", status=DEACTIVATED, contacts=())
                raise
        if not url:
            raise AccountError(f"{new_account_url} answered a lookup (onlyReturnExisting) without the account's URL")
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
        new_account_url = self._client.directory["newAccount"]
        with self._step("creating the ACME account", new_account_url):
            try:
                created = self._client.new_account(registration)
            except acme_errors.ConflictError:  # created meanwhile by a concurrent run
                found = self.find_account()
                if found is None:
                    raise
                return found
        return _account(created.uri, created.body.to_json())

    def check_creation(self, terms_agreed: bool, eab: tuple[str, str] | None) -> None:
        """Raise what would stop an account's creation: terms not agreed, a binding the CA requires."""
        if not terms_agreed:
            terms = getattr(self._client.directory.meta, "terms_of_service", None)
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
        url = self._client.directory["keyChange"]
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
        url = self._client.directory["revokeCert"]
        der = keys.pem_to_der(cert_pem)
        with self._step("revoking the certificate", url):
            try:
                self._client._post(url, _Revocation(certificate=jose.b64encode(der).decode(), reason=reason))
            except messages.Error as error:
                if error.code == "alreadyRevoked":
                    return False
                raise
        return True

    def external_account_required(self) -> bool:
        return bool(self._directory_json.get("meta", {}).get("externalAccountRequired"))

    def thumbprint(self) -> str:
        return jose.b64encode(self._signing_key().thumbprint()).decode()

    # Order -------------------------------------------------------------------------------------

    def profiles(self) -> dict[str, str]:
        """The profiles the CA offers (name -> description); empty when it offers none."""
        profiles = self._directory_json.get("meta", {}).get("profiles") or {}
        return {str(k): str(v) for k, v in profiles.items()} if isinstance(profiles, dict) else {}

    def has_ari(self) -> bool:
        return "renewalInfo" in self._directory_json

    def renewal_info(self, cert_id: str) -> tuple[datetime.datetime, datetime.datetime, datetime.timedelta]:
        """The CA's suggested window for a certificate (RFC 9773), and its Retry-After."""
        url = f"{self._directory_json['renewalInfo'].rstrip('/')}/{cert_id}"
        with self._step("fetching the renewal information (ARI)", url):
            response = self._net.get(url, content_type="application/json")
        try:
            suggested = response.json()["suggestedWindow"]
            return _rfc3339(suggested["start"]), _rfc3339(suggested["end"]), retry_after(response, ari.DEFAULT_RETRY_AFTER)
        except (KeyError, TypeError, ValueError) as exc:
            raise CAError(f"{url} answered renewal information without a usable suggestedWindow ({exc})") from exc

    def new_order(self, csr_pem: bytes, domains: list[str], profile: str | None = None,
                  replaces: str | None = None) -> tuple[messages.OrderResource, str | None, str | None]:
        """Place an order for `domains`, with a profile and the certificate it replaces (ARI).
        Returns the order, the `replaces` it carried, and a warning when the CA refused `replaces`
        and the order went out again without it."""
        url = self._client.directory["newOrder"]
        with self._step("placing the order", url):
            try:
                return self._place_order(url, csr_pem, domains, profile, replaces), replaces, None
            except (messages.Error, acme_errors.ConflictError) as error:
                if not replaces or not order_again_without_replaces(error):
                    raise
                refused = _describe(error) if isinstance(error, messages.Error) else "409 Conflict"
            warning = (f"the CA refused the order that replaces {replaces} ({refused}); ordered again without "
                       "`replaces`, so this renewal counts against the CA's rate limits")
            return self._place_order(url, csr_pem, domains, profile, None), None, warning

    def _place_order(self, url: str, csr_pem: bytes, domains: list[str], profile: str | None,
                     replaces: str | None) -> messages.OrderResource:
        # ClientV2.new_order() cannot send `replaces`: post our message, then load the
        # authorizations as the library does (its _post/_authzr_from_response sign and parse).
        identifiers = [messages.Identifier(typ=messages.IDENTIFIER_FQDN, value=d) for d in domains]
        response = self._client._post(url, _NewOrder(identifiers=identifiers, profile=profile, replaces=replaces))
        body = messages.Order.from_json(response.json())
        authorizations = [self._client._authzr_from_response(self._client._post_as_get(authz), uri=authz)
                          for authz in body.authorizations]
        return messages.OrderResource(body=body, uri=response.headers.get("Location"),
                                      authorizations=authorizations, csr_pem=csr_pem)

    def pending_http01(self, order: messages.OrderResource) -> list[Http01]:
        """The http-01 challenges still to answer. Authorizations the CA already holds as valid
        (reused from an earlier order) need nothing."""
        pending = []
        for authz in order.authorizations:
            domain = authz.body.identifier.value
            status = authz.body.status
            if status == messages.STATUS_VALID:
                continue
            if status != messages.STATUS_PENDING:
                raise ChallengeError(f"the CA's authorization for {domain} is {status}; run again for a new order")
            challb = next((c for c in authz.body.challenges if isinstance(c.chall, challenges.HTTP01)), None)
            if challb is None:
                raise ChallengeError(f"the CA offers no http-01 challenge for {domain}; this collection does only http-01")
            pending.append(Http01(domain, challb.chall.encode("token"), challb.chall.key_authorization(self.jwk),
                                  authz, challb))
        return pending

    def answer(self, challenge: Http01) -> None:
        with self._step(f"answering the http-01 challenge for {challenge.domain}", challenge.challenge.uri):
            self._client.answer_challenge(challenge.challenge, challenge.challenge.chall.response(self.jwk))

    def wait_valid(self, challenge: Http01, deadline: datetime.datetime) -> None:
        """Poll an authorization until valid, honouring Retry-After; raise on invalid or deadline."""
        authz = challenge.authorization
        url = f"http://{challenge.domain}/.well-known/acme-challenge/{challenge.token}"
        while True:
            with self._step(f"polling the authorization for {challenge.domain}", authz.uri):
                authz, response = self._client.poll(authz)
            status = authz.body.status
            if status == messages.STATUS_VALID:
                return
            if status not in (messages.STATUS_PENDING, messages.STATUS_PROCESSING):
                raise ChallengeError(
                    f"the CA could not validate {challenge.domain}: it fetched {url} and reported "
                    f"{_problem(authz)}; nginx must serve the webroot for /.well-known/acme-challenge/ "
                    "on port 80 to the internet"
                )
            _sleep_until(self._client.retry_after(response, default=1), deadline,
                         f"the CA did not validate {challenge.domain}")

    def finalize(self, order: messages.OrderResource, deadline: datetime.datetime,
                 alternatives: bool = False) -> list[bytes]:
        """Send the CSR, wait for the certificate, and return the full chain as the CA sent it,
        followed by the alternate chains it offers when `alternatives` is set."""
        with self._step("finalizing the order", order.uri or "the order"):
            done = self._client.finalize_order(order, deadline, fetch_alternative_chains=alternatives)
        chains = [done.fullchain_pem, *(done.alternative_fullchains_pem or [])]
        return [str(chain).encode("ascii") for chain in chains]

    # Errors ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _step(self, what: str, url: str) -> Iterator[None]:
        """Turn the library's and the network's exceptions into one CAError naming the step."""
        try:
            yield
        except (AccountError, ChallengeError, ConfigError, StorageError):
            raise
        except Exception as error:
            message = _failure(what, url, error)
            if message is None:
                raise
            until = self._net.throttled_until
            if until is not None and until > datetime.datetime.now(datetime.timezone.utc):
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
            raise CAError(f"cannot read ca_bundle {ca_bundle}: {exc.strerror}") from exc
        fd, self._bundle_file = tempfile.mkstemp(prefix="zerodowntime-acme-ca-", suffix=".pem")
        with os.fdopen(fd, "wb") as f:
            f.write(default + b"\n" + extra)
        return self._bundle_file


def order_again_without_replaces(error: Exception) -> bool:
    """Whether an order refused while it carried `replaces` should go out again without it.
    `replaces` is a hint that must never block a renewal: alreadyReplaced (RFC 9773 5; the library
    turns every 409 into a ConflictError, dropping the problem document) or any CA-side trouble
    with the certificate ID (Pebble 2.10, for one, cannot find a serial whose DER form starts with
    a zero byte) is retried once without it. Rate limits and throttling are not: another order
    would not help."""
    if isinstance(error, acme_errors.ConflictError):
        return True
    kept = ("rateLimited", "badNonce", "unauthorized", "accountDoesNotExist")
    return isinstance(error, messages.Error) and error.code not in kept


def choose_profile(offered: dict[str, str], wanted: str | None, required: bool,
                   directory_url: str) -> tuple[str | None, str | None]:
    """(profile to request, warning). A profile is a preference: when the CA does not offer it,
    order without one (the CA's default) and warn, unless `required`."""
    if not wanted or wanted in offered:
        return wanted or None, None
    offers = ", ".join(sorted(offered)) or "none"
    if required:
        raise ConfigError(f"the CA at {directory_url} does not offer the profile '{wanted}' (it offers: {offers}); "
                          "pick one of those, or set profile_required=false to accept the CA's default")
    return None, f"the CA does not offer the profile '{wanted}' (it offers: {offers}); ordered with its default"


def _contacts(email: str | None) -> tuple[str, ...]:
    return (f"mailto:{email}",) if email else ()


def _account(url: str, body: dict[str, Any]) -> Account:
    contacts = body.get("contact") or ()
    return Account(url=url, status=str(body.get("status", "valid")), contacts=tuple(str(c) for c in contacts))


def key_thumbprint(path: str) -> str:
    """The RFC 7638 thumbprint of the account key at `path` (public: safe to show)."""
    return jose.b64encode(_account_jwk(path, create=False)[0].thumbprint()).decode()


def _account_jwk(path: str, create: bool = True) -> tuple[jose.JWK, jose.JWASignature]:
    """Load the account key at `path`, or create it (0600) when missing and `create` holds."""
    try:
        with open(path, "rb") as f:
            pem = f.read()
    except FileNotFoundError:
        if not create:
            raise AccountError(f"the key {path} does not exist") from None
        pem = create_account_key(path)
    except OSError as exc:
        raise AccountError(f"cannot read the account key {path}: {exc.strerror}; check its permissions") from exc
    try:
        key = keys.load_pem(pem)
    except (ValueError, TypeError) as exc:
        raise AccountError(
            f"the account key {path} is not an unencrypted PEM private key ({exc}); point account_key at "
            "a valid key, or move the file away to create a new account"
        ) from exc
    key_type = keys.type_of(key.public_key())
    if key_type == "ec256":
        return jose.JWKEC(key=key), jose.ES256
    if key_type == "ec384":
        return jose.JWKEC(key=key), jose.ES384
    if key_type and key_type.startswith("rsa"):
        return jose.JWKRSA(key=key), jose.RS256
    raise AccountError(f"the account key {path} is of an unsupported type; use an EC P-256/P-384 or RSA key")


def create_account_key(path: str) -> bytes:
    pem = keys.to_pem(keys.generate("ec256"))
    try:
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        files.write_new(path, pem, 0o600)
    except OSError as exc:
        raise AccountError(f"cannot create the account key {path}: {exc}") from exc
    return pem


def _sleep_until(moment: datetime.datetime, deadline: datetime.datetime, what: str) -> None:
    # acme's retry_after() and deadlines are naive local times; stay in that frame.
    now = datetime.datetime.now()
    if now >= deadline:
        raise CAError(f"{what} before the timeout; try again later, or raise timeout")
    time.sleep(max(0.0, (min(moment, deadline) - now).total_seconds()))


def _rfc3339(text: str) -> datetime.datetime:
    """RFC 3339 with any number of fractional digits (Pebble sends nanoseconds)."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text.strip())
    if not match:
        raise CAError(f"the CA sent the time {text!r}, which is not RFC 3339")
    base, fraction, zone = match.groups()
    moment = datetime.datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    return moment + datetime.timedelta(microseconds=int((fraction or "0")[:6].ljust(6, "0")))


def _failure(what: str, url: str, error: Exception) -> str | None:
    """What a failed step says, for the exceptions of the library and of requests (None: not ours)."""
    if isinstance(error, messages.Error):
        return f"{what} failed: {url} answered {_describe(error)}"
    if isinstance(error, acme_errors.TimeoutError):
        return f"{what} timed out at {url}; the CA is slow or stuck, try again later"
    if isinstance(error, requests.exceptions.SSLError):
        return (f"{what} failed: the TLS certificate of {url} cannot be verified ({error}); for a private "
                "or test CA set ca_bundle to the CA certificate that signed it")
    if isinstance(error, requests.exceptions.RequestException):
        return f"{what} failed: cannot reach {url} ({error}); check directory_url and the network"
    if isinstance(error, acme_errors.ConflictError):
        return f"{what} failed: {url} answered 409 Conflict (Location: {error.location})"
    if isinstance(error, acme_errors.ClientError) and isinstance(error.args[0] if error.args else None, requests.Response):
        response = error.args[0]
        return f"{what} failed: {url} answered HTTP {response.status_code} {response.reason or ''}".rstrip()
    if isinstance(error, acme_errors.Error):
        return f"{what} failed at {url}: {str(error) or type(error).__name__}"
    return None


def _problem(authz: messages.AuthorizationResource) -> str:
    errors = [c.error for c in authz.body.challenges if c.error is not None]
    return _describe(errors[0]) if errors else f"status {authz.body.status} with no detail"


def _describe(error: messages.Error) -> str:
    typ = (error.typ or "").replace("urn:ietf:params:acme:error:", "")
    return f"{typ}: {error.detail}" if error.detail else typ or str(error)
