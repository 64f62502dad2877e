"""What an HTTPS client sees on ADDRESS:443 for NAME (a DNS name, or an IP address, which a client
checks against the IP SANs and sends no SNI for), with the chain verified against CAFILE.

    python -m tools.testbed.https_check --address 127.0.0.11 --name default.zdt.test --cafile root.pem

Prints JSON {serial, issuer, subject, names, not_after, not_after_unix, body}; exits 1 with the reason when the
connection or the verification fails.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import sys

from cryptography import x509


def check(address: str, name: str, cafile: str) -> dict:
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection((address, 443), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            response = b""
            while chunk := tls.recv(4096):
                response += chunk
            cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {
        "serial": format(cert.serial_number, "x"),
        "issuer": cert.issuer.rfc4514_string(),
        "subject": cert.subject.rfc4514_string(),
        "names": san.get_values_for_type(x509.DNSName) + [str(a) for a in san.get_values_for_type(x509.IPAddress)],
        "not_after": cert.not_valid_after_utc.isoformat(),
        "not_after_unix": int(cert.not_valid_after_utc.timestamp()),
        "body": response.decode(errors="replace").split("\r\n\r\n", 1)[-1].strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--cafile", required=True)
    args = parser.parse_args()
    try:
        print(json.dumps(check(args.address, args.name, args.cafile)))
    except (OSError, ssl.SSLError) as exc:
        sys.exit(f"https://{args.name}/ on {args.address}: {exc}")


if __name__ == "__main__":
    main()
