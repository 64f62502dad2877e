"""The certificate module's no-op (nothing due) against ansible.builtin.stat, side by side in one run.

Both run on the same host (localhost) in one playbook, interleaved pair by pair, so that machine
load hits both alike. Each task's duration comes from the json callback. The certificate is a real
one, issued once by a local Pebble before the measurement. Target: no-op <= 1.2x stat.

Usage: make bench   (prints a Markdown row for bench/RESULTS.md)
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.testbed.stack import ca_and_web  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, "build", "bench")
ADDRESS = "127.0.0.4"
NAME = "bench.zdt.test"
PAIRS = 25


def _seconds(task: dict) -> float:
    span = task["hosts"]["localhost"].get("duration") or task["task"]["duration"]
    start, end = (datetime.datetime.fromisoformat(span[k].replace("Z", "+00:00")) for k in ("start", "end"))
    return (end - start).total_seconds()


def main() -> None:
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    ports = dict(acme_port=14200, management_port=15200, dns_port=8253, dns_management_port=8255)
    with ca_and_web(STATE, ADDRESS, [NAME], **ports) as (pebble, nginx):
        cert_args = {"domains": [NAME], "webroot": nginx.webroot, "cert_dir": os.path.join(STATE, "live"),
                     "account_key": os.path.join(STATE, "account.pem"), "directory_url": pebble.directory_url,
                     "ca_bundle": pebble.ca_bundle, "terms_agreed": True}
        stat_args = {"path": os.path.join(STATE, "live", NAME, "fullchain.pem")}
        tasks = [{"name": "issue once", "zerodowntime.acme.certificate": cert_args}]
        for n in range(PAIRS):
            tasks.append({"name": f"stat {n}", "ansible.builtin.stat": stat_args})
            tasks.append({"name": f"noop {n}", "zerodowntime.acme.certificate": cert_args})
        play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]
        playbook = os.path.join(STATE, "bench.yml")
        with open(playbook, "w") as f:
            json.dump(play, f)
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        done = subprocess.run(["ansible-playbook", playbook], env=env, capture_output=True, text=True, check=True)
        report = json.loads(done.stdout)["plays"][0]["tasks"]
        assert report[0]["hosts"]["localhost"]["changed"], "the first task should issue"
        noop = [_seconds(t) for t in report[1:] if t["task"]["name"].startswith("noop")]
        stat = [_seconds(t) for t in report[1:] if t["task"]["name"].startswith("stat")]
        assert not any(t["hosts"]["localhost"]["changed"] for t in report[1:]), "a no-op run changed something"
        ratio = statistics.median(noop) / statistics.median(stat)
        print(f"| {datetime.date.today()} | {PAIRS} pairs | {statistics.median(stat) * 1000:.0f} ms "
              f"| {statistics.median(noop) * 1000:.0f} ms | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
