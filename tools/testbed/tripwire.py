"""A port where nothing should ever connect: each connection is logged, then closed unanswered.

The Molecule scenario `offline` points the role's directory_url here, so that a request the role
must not send is counted instead of reaching any real CA.
"""

from __future__ import annotations

import socketserver
import threading


class Tripwire:
    def __init__(self, log_path: str, address: str = "127.0.0.1", port: int = 14999) -> None:
        self.log_path = log_path
        self.url = f"https://{address}:{port}/directory"
        log = log_path

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with open(log, "a", encoding="utf-8") as f:
                    f.write(f"connection from {self.client_address[0]}:{self.client_address[1]}\n")

        self.server = socketserver.ThreadingTCPServer((address, port), Handler)
        self.server.daemon_threads = True
        open(log_path, "w", encoding="utf-8").close()

    def start(self) -> Tripwire:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
