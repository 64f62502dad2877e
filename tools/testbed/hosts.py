"""/etc/hosts lines that make test names resolve on this machine, marked and removed again.

The file is rewritten in place (not replaced), since in a container it is often a bind mount.
"""

from __future__ import annotations

MARK = "# zerodowntime-acme-test"
HOSTS = "/etc/hosts"


def add(address: str, names: list[str], path: str = HOSTS) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{address} {' '.join(names)} {MARK}\n")


def remove_all(path: str = HOSTS) -> None:
    with open(path, "r+", encoding="utf-8") as f:
        kept = [line for line in f if not line.rstrip().endswith(MARK)]
        f.seek(0)
        f.writelines(kept)
        f.truncate()
