"""`make demo`: a local Pebble issues a certificate that a private nginx on 127.0.0.3 serves, then a
second run changes nothing and sends the CA no request. Everything stays on loopback."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys

from cryptography import x509

from tools.testbed import hosts
from tools.testbed.nginx import Nginx
from tools.testbed.pebble import Pebble
from tools.testbed.procs import wait_for_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE = os.path.join(ROOT, "build", "demo")
ADDRESS = "127.0.0.3"
NAME = "demo.zdt.test"


def banner(text: str) -> None:
    print(f"\n==== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def run_playbook(pebble: Pebble, nginx: Nginx) -> str:
    extra = {"demo_state": STATE, "demo_directory_url": pebble.directory_url, "demo_ca_bundle": pebble.ca_bundle,
             "demo_nginx": f"nginx -p {nginx.prefix} -c {nginx.conf}"}
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    done = subprocess.run(["ansible-playbook", os.path.join(ROOT, "tools", "demo", "site.yml"),
                           "-e", json.dumps(extra)], env=env, capture_output=True, text=True, check=False)
    print(done.stdout, end="")
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"the demo playbook failed with exit code {done.returncode}")
    recap = [line for line in done.stdout.splitlines() if line.startswith("localhost")]
    return recap[-1] if recap else ""


def fetch_https(root_pem: str) -> tuple[x509.Certificate, str]:
    context = ssl.create_default_context(cafile=root_pem)
    with socket.create_connection((ADDRESS, 443), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=NAME) as tls:
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {NAME}\r\nConnection: close\r\n\r\n".encode())
            response = b""
            while chunk := tls.recv(4096):
                response += chunk
            cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    return cert, response.decode().split("\r\n\r\n", 1)[-1].strip()


def main() -> None:
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    # Ports apart from the integration tests', so both can run side by side.
    pebble = Pebble(os.path.join(STATE, "pebble"), acme_port=14100, management_port=15100,
                    dns_port=8153, dns_management_port=8155).start()
    nginx = None
    try:
        nginx = Nginx(os.path.join(STATE, "nginx"), ADDRESS, os.path.join(STATE, "webroot")).start()
        pebble.add_a(NAME, ADDRESS)
        hosts.add(ADDRESS, [NAME])

        banner("run 1: nothing exists yet")
        first = run_playbook(pebble, nginx)
        wait_for_port(ADDRESS, 443)

        banner(f"https://{NAME}/ as a client sees it")
        root = os.path.join(STATE, "pebble-root.pem")
        with open(root, "wb") as f:
            f.write(pebble.root_pem())
        cert, body = fetch_https(root)
        print(f"  response: {body}")
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        print(f"  subject:  {cert.subject.rfc4514_string() or '(empty, as Pebble and the tlsserver profile do)'}")
        print(f"  names:    {', '.join(names.get_values_for_type(x509.DNSName))}")
        print(f"  issuer:   {cert.issuer.rfc4514_string()}")
        print(f"  expires:  {cert.not_valid_after_utc:%Y-%m-%d %H:%M UTC}")
        print("  chain verified against Pebble's root from its management API")

        banner("run 2: nothing is due")
        requests_before = pebble.request_count()
        second = run_playbook(pebble, nginx)
        requests_second_run = pebble.request_count() - requests_before

        banner("summary")
        print(f"  run 1: {first.split(':', 1)[-1].strip()}")
        print(f"  run 2: {second.split(':', 1)[-1].strip()}")
        print(f"  requests to the CA during run 2: {requests_second_run}")
        print(f"  served serial {cert.serial_number:x}, valid until {cert.not_valid_after_utc:%Y-%m-%d}")
        if "changed=0" not in second or requests_second_run:
            raise SystemExit("the second run should change nothing and contact nobody")
        print(f"  demo finished at {datetime.datetime.now():%H:%M:%S}")
    finally:
        hosts.remove_all()
        if nginx:
            nginx.stop()
        pebble.stop()


if __name__ == "__main__":
    main()
