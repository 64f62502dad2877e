"""A small acme-dns server of our own (none is packaged for Debian): its HTTP API as acme-dns
documents it (POST /update with X-Api-User and X-Api-Key, {"subdomain", "txt"}; a value of 43
characters; the two latest values of each account kept), over HTTPS on loopback. Where the real
acme-dns serves its zone itself, this one writes each account's TXT records into BIND's
acme.zdt.test with a dynamic update, so the CA validates them for real.
"""

from __future__ import annotations

import http.server
import json
import os
import ssl
import threading
import uuid

import dns.query
import dns.tsigkeyring
import dns.update

from .bind import PRIMARY, UPDATE_KEY
from .tlsca import make_api_tls

ZONE = "acme.zdt.test"


class AcmeDns:
    def __init__(self, state_dir: str, secret: str, port: int = 14500) -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.port = port
        self.url = f"https://127.0.0.1:{port}"
        self.keyring = dns.tsigkeyring.from_text({UPDATE_KEY: secret})
        self.accounts: dict[str, dict[str, str]] = {}
        self.values: dict[str, list[str]] = {}
        self.updates: list[dict] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self.ca_pem = ""

    def register(self) -> dict[str, str]:
        """A new account, as acme-dns' /register answers it (with its fulldomain)."""
        account = {"username": str(uuid.uuid4()), "password": uuid.uuid4().hex, "subdomain": str(uuid.uuid4())}
        self.accounts[account["username"]] = account
        return dict(account, fulldomain=f"{account['subdomain']}.{ZONE}")

    def start(self) -> "AcmeDns":
        self.ca_pem, cert, key = make_api_tls(os.path.join(self.state_dir, "tls"))
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the library's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = owner.update(self.path, self.headers.get("X-Api-User"),
                                              self.headers.get("X-Api-Key"), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def update(self, path: str, user: str | None, key: str | None, body: bytes) -> tuple[int, dict]:
        account = self.accounts.get(user or "")
        if path != "/update":
            return 404, {"error": "not found"}
        if account is None or account["password"] != key:
            return 401, {"error": "forbidden"}
        try:
            asked = json.loads(body)
        except ValueError:
            return 400, {"error": "malformed_json_payload"}
        if asked.get("subdomain") != account["subdomain"]:
            return 401, {"error": "forbidden"}
        txt = asked.get("txt")
        if not isinstance(txt, str) or len(txt) != 43:
            return 400, {"error": "bad_txt"}
        self.updates.append(asked)
        kept = (self.values.get(account["subdomain"], []) + [txt])[-2:]
        self.values[account["subdomain"]] = kept
        update = dns.update.UpdateMessage(ZONE, keyring=self.keyring, keyname=UPDATE_KEY)
        name = f"{account['subdomain']}.{ZONE}."
        update.delete(name, "TXT")
        for value in kept:
            update.add(name, 1, "TXT", f'"{value}"')
        response = dns.query.tcp(update, PRIMARY, timeout=10)
        if response.rcode() != 0:
            return 500, {"error": "dns"}
        return 200, {"txt": txt}
