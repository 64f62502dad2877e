"""HTTPS load on one loopback address while a command runs: every request opens a new TLS
connection, so a refused connection or a failed handshake during a reload counts as a failure.

    python -m tools.testbed.load --address 127.0.0.31 --name renewal.zdt.test --cafile root.pem \\
        --during 'docker exec zdt-renewal zerodowntime-acme renew --force'

Prints one JSON object: requests, failures (with the first errors), the serials served in order of
first appearance, how often consecutive answers switched serial (during a reload the old and the new
workers both answer for a moment), and the command's exit code and output. Bounded: it stops LINGER seconds after the command ends, and
never runs longer than --max-seconds.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import subprocess
import threading
import time

from cryptography import x509

LINGER = 2.0


def one_request(address: str, name: str, context: ssl.SSLContext) -> str:
    """GET / over a new TLS connection; returns the served certificate's serial (hex)."""
    with socket.create_connection((address, 443), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            head = tls.recv(64)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"answer {head[:20]!r}")
            while tls.recv(4096):
                pass
            serial = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number
    return format(serial, "x")


def run(address: str, name: str, cafile: str, during: str, workers: int, max_seconds: float) -> dict:
    context = ssl.create_default_context(cafile=cafile)
    stop = threading.Event()
    lock = threading.Lock()
    stats = {"requests": 0, "failures": 0, "errors": [], "serials": [], "switches": 0}
    last = [None]

    def worker() -> None:
        while not stop.is_set():
            try:
                serial = one_request(address, name, context)
                error = None
            except (OSError, RuntimeError, ssl.SSLError) as exc:
                serial, error = None, f"{type(exc).__name__}: {exc}"
            with lock:
                stats["requests"] += 1
                if error:
                    stats["failures"] += 1
                    if len(stats["errors"]) < 5:
                        stats["errors"].append(error)
                else:
                    if serial not in stats["serials"]:
                        stats["serials"].append(serial)
                    if last[0] is not None and last[0] != serial:
                        stats["switches"] += 1
                    last[0] = serial

    threads = [threading.Thread(target=worker, daemon=True) for _worker in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(LINGER)  # load is flowing before the command starts
    try:
        done = subprocess.run(during, shell=True, capture_output=True, text=True, timeout=max_seconds, check=False)
        result = {"rc": done.returncode, "output": (done.stdout + done.stderr).strip()}
    except subprocess.TimeoutExpired:
        result = {"rc": None, "output": f"still running after {max_seconds} s"}
    time.sleep(LINGER)  # and still flowing after it ends
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    stats["seconds"] = round(time.monotonic() - started, 1)
    stats["command"] = result
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--during", required=True, help="shell command to run under load")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=120)
    args = parser.parse_args()
    print(json.dumps(run(args.address, args.name, args.cafile, args.during, args.workers, args.max_seconds)))


if __name__ == "__main__":
    main()
