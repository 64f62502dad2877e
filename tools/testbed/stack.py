"""Pebble and one nginx on 127.0.0.x, with names that resolve to it, torn down in every outcome."""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

from . import hosts
from .nginx import Nginx
from .pebble import Pebble


@contextlib.contextmanager
def ca_and_web(state: str, address: str, names: list[str], *, pebble_only: tuple[str, ...] = (),
               **pebble_options: Any) -> Iterator[tuple[Pebble, Nginx]]:
    """`names` resolve to `address` for Pebble and for this machine; `pebble_only` for Pebble alone."""
    pebble = Pebble(os.path.join(state, "pebble"), **pebble_options).start()
    nginx = None
    try:
        nginx = Nginx(os.path.join(state, "nginx"), address, os.path.join(state, "webroot")).start()
        for name in [*names, *pebble_only]:
            pebble.add_a(name, address)
        hosts.add(address, names)
        yield pebble, nginx
    finally:
        hosts.remove_all()
        if nginx:
            nginx.stop()
        pebble.stop()
