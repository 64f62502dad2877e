"""certbot's webroot, community.crypto's ACME modules and this collection, side by side against one
local Pebble, in one sitting.

Each measure runs every client once per round, the clients interleaved, so that machine load hits
them alike; each run is a fresh process, timed for wall and CPU (its children's user + system
time), and the CA requests it sent are counted from Pebble's log. Medians over the rounds.

- first issuance of one name: `certbot certonly --webroot`; the play of community.crypto's way
  (key, CSR, `acme_certificate` twice with the challenge file copied between); our module ad hoc
  (`ansible -m`); our module as a play's task; our host CLI (`zerodowntime-acme renew` of one new
  certificate);
- the same with 5 names;
- 20 certificates: 20 `certbot certonly` against one `zerodowntime-acme renew`; a play that loops
  over 20 with community.crypto against one that loops with our module; and, as Ansible's floor on
  this machine, the same play looping 20 times over `ansible.builtin.stat`;
- nothing due, 1 and 20 certificates: `certbot renew` against `zerodowntime-acme renew`;
- 20 renewal-window (ARI) re-checks: our CLI seven hours on (past the window's Retry-After), and
  certbot's `renew`, which asks for every certificate on every run.

certbot 5.8 comes from PyPI into its own venv (build/bench-venv); community.crypto is the one the
test venv's `ansible` bundle ships. No validation is turned off anywhere: every client trusts
Pebble's API through its CA file, and Pebble validates every challenge over http-01 against nginx.

Usage: make bench   (prints Markdown rows for bench/RESULTS.md)
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "collections"))

# pylint: disable-next=wrong-import-position
from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import render  # noqa: E402
from tools.testbed.nginx import Nginx  # noqa: E402  # pylint: disable=wrong-import-position
from tools.testbed.pebble import Pebble  # noqa: E402  # pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, "build", "bench-clients")
CERTBOT = os.path.join(ROOT, "build", "bench-venv", "bin", "certbot")
ADDRESS = "127.0.0.7"
ZONE = "cmp.zdt.test"
ROUNDS = int(os.environ.get("ZDT_BENCH_ROUNDS", "3"))
MANY = int(os.environ.get("ZDT_BENCH_MANY", "20"))


@dataclass
class Run:
    wall: float
    cpu: float
    requests: int


class Bench:
    def __init__(self, pebble, nginx) -> None:
        self.pebble = pebble
        self.nginx = nginx
        self.results: dict[str, list[Run]] = {}
        self.counter = 0
        self.cli = os.path.join(STATE, "zerodowntime-acme")
        with open(self.cli, "w", encoding="utf-8") as f:
            f.write(render(sys.executable))
        os.chmod(self.cli, 0o755)
        self.env = dict(os.environ, REQUESTS_CA_BUNDLE=pebble.ca_bundle, SSL_CERT_FILE=pebble.ca_bundle,
                        ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                        ANSIBLE_HOME=os.path.join(ROOT, "build", "ansible"),
                        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections"),
                        # The CLI keeps its compiled modules as on a host (/var/cache there), here under build/.
                        ZERODOWNTIME_ACME_BYTECODE=os.path.join(STATE, "bytecode"))
        # The Makefile's setting for the test suite; every client runs as it would on a host.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def names(self, count: int) -> list[str]:
        """Fresh names (never issued before, so no client reuses an authorization of another)."""
        self.counter += 1
        return [f"n{self.counter}-{k}.{ZONE}" for k in range(count)]

    def measure(self, label: str, command: list[str] | Callable[[], None]) -> None:
        before = len(self.pebble.requests())
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        if callable(command):
            command()
        else:
            done = subprocess.run(command, env=self.env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{label}: {' '.join(command[:3])} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
        self.results.setdefault(label, []).append(Run(wall, cpu, len(self.pebble.requests()) - before))

    # The clients -------------------------------------------------------------------------------

    def certbot(self, *args: str, folder: str = "certbot") -> list[str]:
        folder = os.path.join(STATE, folder)
        return [CERTBOT, *args, "--config-dir", folder, "--work-dir", folder, "--logs-dir", folder,
                "--server", self.pebble.directory_url, "--non-interactive", "--agree-tos",
                "--register-unsafely-without-email"]

    def certbot_certonly(self, names: list[str], folder: str = "certbot") -> list[str]:
        return self.certbot("certonly", "--webroot", "-w", self.nginx.webroot, *[a for n in names for a in ("-d", n)],
                            folder=folder)

    def module_args(self, names: list[str]) -> dict:
        return {"domains": names, "webroot": self.nginx.webroot, "cert_dir": os.path.join(STATE, "live"),
                "account_key": os.path.join(STATE, "account.pem"), "directory_url": self.pebble.directory_url,
                "ca_bundle": self.pebble.ca_bundle, "terms_agreed": True}

    def ours_ad_hoc(self, names: list[str]) -> list[str]:
        return ["ansible", "localhost", "-m", "zerodowntime.acme.certificate", "-a", json.dumps(self.module_args(names))]

    def ours_cli(self, config: str, certificates: list[list[str]], *args: str) -> list[str]:
        os.makedirs(os.path.join(config, "certificates"), exist_ok=True)
        for names in certificates:
            with open(os.path.join(config, "certificates", f"{names[0]}.json"), "w", encoding="utf-8") as f:
                json.dump(dict(self.module_args(names), name=names[0]), f)
        with open(os.path.join(config, "renew.json"), "w", encoding="utf-8") as f:
            json.dump({"validate": ["true"], "reload": ["true"]}, f)
        return [sys.executable, self.cli, "--config-dir", config, *args, "renew"]

    def play(self, tasks: list[dict], loop: list[list[str]] | None = None) -> list[str]:
        play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"zdt_certificates": loop}, "tasks": tasks}]
        self.counter += 1
        path = os.path.join(STATE, f"play-{self.counter}.yml")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(play, f)
        return ["ansible-playbook", path]

    def ours_play(self, certificates: list[list[str]]) -> list[str]:
        args = dict(self.module_args(["{{ item }}"]), domains="{{ item }}")
        return self.play([{"name": "certificate", "zerodowntime.acme.certificate": args,
                           "loop": "{{ zdt_certificates }}"}], certificates)

    def ours_list_play(self, certificates: list[list[str]]) -> list[str]:
        """The roles' path since issue 22: one zerodowntime.acme.certificates task for all of them."""
        ca = {key: value for key, value in self.module_args([]).items()
              if key in ("directory_url", "ca_bundle", "account_key")}
        elements = [{key: value for key, value in self.module_args(names).items() if key not in ca}
                    for names in certificates]
        return self.play([{"name": "certificates", "zerodowntime.acme.certificates": dict(ca, certificates=elements)}])

    def crypto_play(self, certificates: list[list[str]]) -> list[str]:
        """community.crypto's documented way: a key, a CSR, acme_certificate to get the challenge, the
        file copied into the webroot by hand, acme_certificate again to finish."""
        folder = os.path.join(STATE, "crypto")
        os.makedirs(folder, exist_ok=True)
        acme = {"account_key_src": os.path.join(folder, "account.pem"), "acme_directory": self.pebble.directory_url,
                "acme_version": 2, "terms_agreed": True, "challenge": "http-01"}

        def files(names: str) -> dict:
            base = f"{folder}/{{{{ {names}[0] }}}}"
            return {"csr": f"{base}.csr", "dest": f"{base}.crt", "fullchain_dest": f"{base}-fullchain.crt"}

        tasks = [
            {"name": "account key", "community.crypto.openssl_privatekey": {
                "path": os.path.join(folder, "account.pem"), "type": "ECC", "curve": "secp256r1"}},
            {"name": "key", "community.crypto.openssl_privatekey": {
                "path": f"{folder}/{{{{ item[0] }}}}.key", "type": "ECC", "curve": "secp256r1"},
             "loop": "{{ zdt_certificates }}"},
            {"name": "csr", "community.crypto.openssl_csr": {
                "path": f"{folder}/{{{{ item[0] }}}}.csr", "privatekey_path": f"{folder}/{{{{ item[0] }}}}.key",
                "subject_alt_name": "{{ item | map('regex_replace', '^', 'DNS:') | list }}"},
             "loop": "{{ zdt_certificates }}"},
            {"name": "challenge", "community.crypto.acme_certificate": dict(acme, **files("item")),
             "register": "zdt_challenge", "loop": "{{ zdt_certificates }}"},
            {"name": "copy", "ansible.builtin.copy": {
                "dest": f"{self.nginx.webroot}/{{{{ item.value['http-01'].resource }}}}",
                "content": "{{ item.value['http-01'].resource_value }}", "mode": "0644"},
             "loop": "{{ zdt_challenge.results | map(attribute='challenge_data') | map('dict2items') | flatten }}"},
            {"name": "finish", "community.crypto.acme_certificate": dict(acme, data="{{ item }}", **files("item.item")),
             "loop": "{{ zdt_challenge.results }}"},
        ]
        return self.play(tasks, certificates)


def _median(runs: list[Run], attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


def _row(bench: Bench, measure: str, ours: str, theirs: str) -> str:
    a, b = bench.results[ours], bench.results[theirs]
    return (f"| {datetime.date.today()} | {measure} | {theirs}: {_median(b, 'wall'):.2f} s "
            f"({_median(b, 'cpu'):.2f} s CPU, {_median(b, 'requests'):.0f} req) | {ours}: {_median(a, 'wall'):.2f} s "
            f"({_median(a, 'cpu'):.2f} s CPU, {_median(a, 'requests'):.0f} req) | "
            f"{_median(a, 'wall') / _median(b, 'wall'):.2f}x |")


def main() -> None:
    if not os.path.exists(CERTBOT):
        raise SystemExit(f"{CERTBOT} is missing: make bench installs it")
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    names = [f"n{i}-{k}.{ZONE}" for i in range(1, 20 * ROUNDS + 100) for k in range(5)]
    # Pebble's own polling behaviour, as the issue measured it; no refused nonces (certbot retries once).
    pebble = Pebble(os.path.join(STATE, "pebble"), acme_port=14600, management_port=15600, dns_port=8653,
                    dns_management_port=8655, retry_after={}, nonce_reject=0).start()
    nginx = None
    try:
        nginx = Nginx(os.path.join(STATE, "nginx"), ADDRESS, os.path.join(STATE, "webroot")).start()
        for name in names:
            pebble.add_a(name, ADDRESS)
        _hosts(names)  # our self-check fetches each name as the CA will
        _compare(Bench(pebble, nginx))
    finally:
        _hosts([])
        if nginx:
            nginx.stop()
        pebble.stop()


HOSTS_MARK = "# zerodowntime.acme bench/compare_clients.py"


def _hosts(names: list[str]) -> None:
    """Our own lines in /etc/hosts (the tests' helper would remove the tests' lines too)."""
    with open("/etc/hosts", "r+", encoding="utf-8") as f:
        kept = [line for line in f if not line.rstrip().endswith(HOSTS_MARK)]
        kept += [f"{ADDRESS} {' '.join(names[i:i + 50])} {HOSTS_MARK}\n" for i in range(0, len(names), 50)]
        f.seek(0)
        f.writelines(kept)
        f.truncate()


def _compare(bench: Bench) -> None:
    # Accounts exist before the measures, as they do on a host that has run once.
    bench.measure("warm-up certbot", bench.certbot_certonly(bench.names(1)))
    bench.measure("warm-up ours", bench.ours_ad_hoc(bench.names(1)))
    bench.measure("warm-up crypto", bench.crypto_play([bench.names(1)]))
    for _round in range(ROUNDS):
        for count in (1, 5):
            bench.measure(f"certbot certonly {count}", bench.certbot_certonly(bench.names(count)))
            bench.measure(f"crypto play {count}", bench.crypto_play([bench.names(count)]))
            bench.measure(f"ours ad hoc {count}", bench.ours_ad_hoc(bench.names(count)))
            bench.measure(f"ours play {count}", bench.ours_play([bench.names(count)]))
            config = os.path.join(STATE, f"cli-{bench.counter}")
            bench.measure(f"ours CLI {count}", bench.ours_cli(config, [bench.names(count)]))
    # 20 certificates, each client in a config of its own that then holds just those 20.
    many = [bench.names(1) for _i in range(MANY)]
    config = os.path.join(STATE, "cli-many")

    def certbot_many() -> None:
        for names in many:
            bench.measure("_", bench.certbot_certonly(names, "certbot-many"))

    bench.measure(f"certbot certonly x{MANY}", certbot_many)
    bench.measure(f"ours CLI x{MANY}", bench.ours_cli(config, [bench.names(1) for _i in range(MANY)]))
    bench.measure(f"crypto play x{MANY}", bench.crypto_play([bench.names(1) for _i in range(MANY)]))
    bench.measure(f"ours play x{MANY}", bench.ours_play([bench.names(1) for _i in range(MANY)]))
    bench.measure(f"ours one-task play x{MANY}", bench.ours_list_play([bench.names(1) for _i in range(MANY)]))
    # Ansible's own floor for a loop of 20 on this machine: the same play with a stat per item.
    stat_task = {"name": "stat", "ansible.builtin.stat": {"path": "{{ item[0] }}"}, "loop": "{{ zdt_certificates }}"}
    bench.measure(f"stat play x{MANY}", bench.play([stat_task], [[bench.nginx.webroot]] * MANY))
    one = os.path.join(STATE, "cli-one")
    bench.measure("_", bench.certbot_certonly(bench.names(1), "certbot-one"))
    bench.measure("_", bench.ours_cli(one, [bench.names(1)]))
    for _round in range(ROUNDS):  # nothing due
        for count, folder, cli_config in ((1, "certbot-one", one), (MANY, "certbot-many", config)):
            bench.measure(f"certbot renew x{count}, nothing due",
                          bench.certbot("renew", "--no-random-sleep-on-renew", folder=folder))
            bench.measure(f"ours CLI renew x{count}, nothing due",
                          [sys.executable, bench.cli, "--config-dir", cli_config, "renew"])
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bench.measure(f"ours CLI ARI re-check x{MANY}", [sys.executable, bench.cli, "--config-dir", config, "--now", later, "renew"])
    for measure, ours, theirs in [
        ("first issuance, 1 name", "ours CLI 1", "certbot certonly 1"),
        ("first issuance, 1 name", "ours ad hoc 1", "certbot certonly 1"),
        ("first issuance, 1 name", "ours ad hoc 1", "crypto play 1"),
        ("first issuance, 1 name", "ours play 1", "crypto play 1"),
        ("5 names", "ours CLI 5", "certbot certonly 5"),
        ("5 names", "ours ad hoc 5", "crypto play 5"),
        ("5 names", "ours play 5", "crypto play 5"),
        (f"{MANY} certificates", f"ours CLI x{MANY}", f"certbot certonly x{MANY}"),
        (f"{MANY} certificates", f"ours play x{MANY}", f"crypto play x{MANY}"),
        (f"{MANY} certificates", f"ours one-task play x{MANY}", f"crypto play x{MANY}"),
        (f"{MANY} items, Ansible's floor", f"stat play x{MANY}", f"crypto play x{MANY}"),
        ("nothing due, 1", "ours CLI renew x1, nothing due", "certbot renew x1, nothing due"),
        (f"nothing due, {MANY} (certbot asks ARI for each)", f"ours CLI renew x{MANY}, nothing due",
         f"certbot renew x{MANY}, nothing due"),
        (f"ARI re-check of {MANY}", f"ours CLI ARI re-check x{MANY}", f"certbot renew x{MANY}, nothing due"),
    ]:
        print(_row(bench, measure, ours, theirs))


if __name__ == "__main__":
    main()
