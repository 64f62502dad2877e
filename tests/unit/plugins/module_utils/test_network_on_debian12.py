"""network.py on the libraries of a Debian 12 managed host (acme 2.1, requests 2.28, urllib3 1.26,
cryptography 38), which the role installs there: `make setup` unpacks them into build/debian-libs.

The venv's newer libraries hide what differs: urllib3 1.26 has no read1(), and a body read through
http.client's must leave the connection ready, or its next request goes out and is then refused
(ResponseNotReady) and a POST is sent twice (seen as "Cannot update challenge with status valid"),
as soon as an earlier answer is still referenced.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
LIBS = os.path.join(ROOT, "build", "debian-libs", "root", "usr", "lib", "python3", "dist-packages")
# Debian 12's own interpreter (3.11), for which those libraries' compiled parts are built.
PYTHON = "/usr/bin/python3"
# Debian 12's own Python and libraries, as on a managed host: a controller container has neither.
pytestmark = pytest.mark.controller_independent

SCRIPT = textwrap.dedent("""
    import http.server, json, threading
    import importlib.metadata
    import josepy as jose, urllib3, requests
    from acme import messages
    from cryptography.hazmat.primitives.asymmetric import ec
    from ansible_collections.zerodowntime.acme.plugins.module_utils import network

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((self.command, self.client_address))
            body = b"" if self.command == "HEAD" else json.dumps({"n": len(seen)}).encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Replay-Nonce", jose.b64encode(b"nonce-%d" % len(seen)).decode())
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/" % server.server_address[1]
    net = network.Network(key=jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1())), alg=jose.ES256,
                          user_agent="test")
    order = messages.NewOrder(identifiers=(messages.Identifier(typ=messages.IDENTIFIER_FQDN, value="a.test"),))
    # Kept, as the engine keeps an order's answer while it fetches the order's authorizations: a
    # response still referenced is not closed by the garbage collector.
    kept = []
    for _ in range(2):
        kept.append(net.get(url + "dir"))
        kept.append(net.post(url + "order", order, new_nonce_url=url + "nonce"))
    server.shutdown()
    print(json.dumps({"versions": [urllib3.__version__, requests.__version__, importlib.metadata.version("acme")],
                      "methods": [m for m, _ in seen], "connections": len({c for _, c in seen})}))
""")


def test_every_request_goes_out_once_on_one_connection_with_debian12s_libraries():
    assert os.path.isdir(LIBS), f"{LIBS} is missing: `make setup` (tools/fetch-debian-libs.sh) unpacks it"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([LIBS, os.path.join(ROOT, "build", "collections"), ROOT]),
               PYTHONNOUSERSITE="1")
    done = subprocess.run([PYTHON, "-c", SCRIPT], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["versions"][0].startswith("1.26.") and result["versions"][2].startswith("2.1."), result
    # GET, then HEAD (a nonce) and POST; then GET and POST (the POST's answer carried the next nonce).
    assert result["methods"] == ["GET", "HEAD", "POST", "GET", "POST"], result
    assert result["connections"] == 1, result
