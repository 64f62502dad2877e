"""Where one item of a play's loop over the certificate module spends its time, against
ansible.builtin.stat's item: the two module processes themselves, as Ansible starts them.

Both modules are built by Ansible once (ANSIBLE_KEEP_REMOTE_FILES keeps their AnsiballZ files), then
each file is run as its own process, interleaved: stat on a file; our module issuing a certificate
for a new name (one file per name, the name swapped in its arguments), against a local Pebble that
answers as it does by itself (no Retry-After, no refused nonce); and, as the parts of ours, Python
starting and importing the `acme` library with what it loads (josepy, requests, cryptography).
Every issuance is real: Pebble validates each challenge over http-01 against nginx.

compare_clients.py's play loop of 20 must fit 0.25x community.crypto's; this shows what one item of
ours costs beyond stat's, and how much of it is the library and the CA's poll schedule.

Usage: make bench   (prints Markdown rows for bench/RESULTS.md)
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.testbed.stack import ca_and_web  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, "build", "bench-loop-item")
ADDRESS = "127.0.0.4"
ROUNDS = 12
NAME = "item.zdt.test"
FRESH = [f"item{n}.zdt.test" for n in range(ROUNDS)]


def _ansiballz(module: str, args: dict) -> str:
    """The AnsiballZ file Ansible builds for `module` with `args` (the module runs once here)."""
    remote = os.path.join(STATE, "remote-tmp")
    shutil.rmtree(remote, ignore_errors=True)
    env = dict(os.environ, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TEMP=remote, ANSIBLE_LOCALHOST_WARNING="false")
    subprocess.run(["ansible", "localhost", "-c", "local", "-i", "localhost,", "-e",
                    f"ansible_python_interpreter={sys.executable}", "-m", module, "-a", json.dumps(args)],
                   env=env, check=True, capture_output=True)
    (path,) = glob.glob(os.path.join(remote, "*", f"AnsiballZ_{module.rsplit('.', 1)[-1]}.py"))
    with open(path, encoding="utf-8") as f:
        return f.read()


def _timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (the process's user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env={"PATH": os.environ["PATH"]})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _finalized(pebble) -> int:
    return sum(1 for event, _order in pebble.order_events() if event == "finalized")


def main() -> None:
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    ports = dict(acme_port=14200, management_port=15200, dns_port=8253, dns_management_port=8255)
    with ca_and_web(STATE, ADDRESS, [NAME, *FRESH], retry_after={}, nonce_reject=0, **ports) as (pebble, nginx):
        args = {"domains": [NAME], "webroot": nginx.webroot, "cert_dir": os.path.join(STATE, "live"),
                "account_key": os.path.join(STATE, "account.pem"), "directory_url": pebble.directory_url,
                "ca_bundle": pebble.ca_bundle, "terms_agreed": True}
        ours = _ansiballz("zerodowntime.acme.certificate", args)  # also creates the account
        stat = os.path.join(STATE, "stat.py")
        with open(stat, "w", encoding="utf-8") as f:
            f.write(_ansiballz("ansible.builtin.stat", {"path": os.path.join(STATE, "live", NAME, "fullchain.pem")}))
        fresh = []
        for name in FRESH:
            fresh.append(os.path.join(STATE, f"{name}.py"))
            with open(fresh[-1], "w", encoding="utf-8") as f:
                f.write(ours.replace(NAME, name))
        runs: dict[str, list[tuple[float, float]]] = {"stat": [], "new": [], "acme": [], "python": []}
        finalized_before = _finalized(pebble)
        for n in range(ROUNDS):
            runs["stat"].append(_timed([sys.executable, stat]))
            runs["new"].append(_timed([sys.executable, fresh[n]]))
            runs["acme"].append(_timed([sys.executable, "-c", "import acme.client, acme.messages, requests"]))
            runs["python"].append(_timed([sys.executable, "-c", "pass"]))
        finalized = _finalized(pebble) - finalized_before
        assert finalized == ROUNDS, f"{finalized} orders finalized for {ROUNDS} new names"

    def median(key: str, part: int) -> float:
        return statistics.median(run[part] for run in runs[key]) * 1000

    def cell(key: str) -> str:
        return f"{median(key, 0):.0f} ms ({median(key, 1):.0f} ms CPU)"

    print(f"| {datetime.date.today()} | {ROUNDS} | {cell('stat')} | {cell('new')} | "
          f"{median('new', 0) - median('stat', 0):.0f} ms | {median('acme', 0) - median('python', 0):.0f} ms | "
          f"{statistics.median(wall - cpu for wall, cpu in runs['new']) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
