"""Caddy's ACME server (Debian's `caddy` package, smallstep's library) on loopback: a second,
independent CA that validates for real, so that nothing depends on Pebble's habits.

It runs unprivileged in spirit (its HOME and XDG folders point into the state folder, `admin off`,
`skip_install_trust`) and binds 127.0.0.1 only. Its http-01 validation resolves names through this
machine's resolver (/etc/hosts) and fetches them on port 80, as a real CA does.
"""

from __future__ import annotations

import os

from . import procs

CADDYFILE = """\
{{
    admin off
    skip_install_trust
    auto_https disable_redirects
    storage file_system {{
        root {data}
    }}
    pki {{
        ca zdt {{
            name "zerodowntime-acme test CA (Caddy)"
        }}
    }}
}}

https://127.0.0.1:{port} {{
    bind 127.0.0.1
    tls internal
    acme_server {{
        ca zdt
    }}
}}
"""


class Caddy:
    def __init__(self, state_dir: str, port: int = 14100, binary: str = "/usr/bin/caddy") -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.port = port
        self.binary = binary
        self.data = os.path.join(self.state_dir, "data")
        self.directory_url = f"https://127.0.0.1:{port}/acme/zdt/directory"
        # Caddy's own HTTPS (tls internal) is signed by its "local" CA; the certificates it issues
        # over ACME by the "zdt" CA.
        self.ca_bundle = os.path.join(self.data, "pki", "authorities", "local", "root.crt")
        self.issuing_root = os.path.join(self.data, "pki", "authorities", "zdt", "root.crt")
        self._proc = None

    def start(self) -> "Caddy":
        if not os.path.exists(self.binary):
            raise RuntimeError(f"{self.binary} is missing: tools/setup-host.sh installs Debian's caddy package")
        if procs.port_in_use("127.0.0.1", self.port):
            raise RuntimeError(f"127.0.0.1:{self.port} is taken; is another Caddy running?")
        for folder in ("home", "xdg-data", "xdg-config", "data"):
            os.makedirs(os.path.join(self.state_dir, folder), exist_ok=True)
        config = os.path.join(self.state_dir, "Caddyfile")
        with open(config, "w", encoding="utf-8") as f:
            f.write(CADDYFILE.format(data=self.data, port=self.port))
        env = {"HOME": os.path.join(self.state_dir, "home"),
               "XDG_DATA_HOME": os.path.join(self.state_dir, "xdg-data"),
               "XDG_CONFIG_HOME": os.path.join(self.state_dir, "xdg-config")}
        self._proc = procs.start([self.binary, "run", "--config", config, "--adapter", "caddyfile"],
                                 os.path.join(self.state_dir, "caddy.log"), env=env)
        procs.wait_for_port("127.0.0.1", self.port, proc=self._proc)
        procs.wait_for_file(self.ca_bundle, proc=self._proc)
        return self

    def stop(self) -> None:
        procs.stop(self._proc)
