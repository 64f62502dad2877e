"""A private nginx instance on one 127.0.0.x address, serving a webroot for the ACME challenge."""

from __future__ import annotations

import os
import subprocess

from . import procs

CONF = """\
daemon on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen {address}:80;
        server_name _;
        location ^~ /.well-known/acme-challenge/ {{
            root {webroot};
            default_type text/plain;
        }}
        location / {{
            return 404;
        }}
    }}
    include {prefix}/sites/*.conf;
}}
"""


class Nginx:
    def __init__(self, prefix: str, address: str, webroot: str) -> None:
        self.prefix = os.path.abspath(prefix)
        self.address = address
        self.webroot = os.path.abspath(webroot)
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.sites = os.path.join(self.prefix, "sites")

    def start(self) -> "Nginx":
        for folder in (self.sites, os.path.join(self.prefix, "tmp"), self.webroot):
            os.makedirs(folder, exist_ok=True)
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(CONF.format(prefix=self.prefix, address=self.address, webroot=self.webroot))
        if procs.port_in_use(self.address, 80):
            raise RuntimeError(f"{self.address}:80 is taken (Debian's default nginx site holds port 80 on "
                               "every address: remove /etc/nginx/sites-enabled/default and reload it)")
        self._run("-t", "-q")
        self._run()
        procs.wait_for_port(self.address, 80)
        return self

    def reload(self) -> None:
        self._run("-t", "-q")
        self._run("-s", "reload")

    def stop(self) -> None:
        if os.path.exists(os.path.join(self.prefix, "nginx.pid")):
            self._run("-s", "quit")

    def command(self) -> str:
        """The shell command that tests and reloads this instance (for deploy hooks)."""
        base = f"nginx -p {self.prefix} -c {self.conf}"
        return f"{base} -t -q && {base} -s reload"

    def _run(self, *args: str) -> None:
        done = subprocess.run(["nginx", "-p", self.prefix, "-c", self.conf, *args],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"nginx {' '.join(args)} failed: {done.stderr.strip()}")
