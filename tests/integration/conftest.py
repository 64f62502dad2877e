"""A real Pebble (validating for real) and a real nginx on 127.0.0.2, and a way to run the module
through `ansible` exactly as a user does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

from ansible_collections.zerodowntime.acme.plugins.lookup.host_cli import start_program
from ansible_collections.zerodowntime.acme.plugins.module_utils import commands
from tools.testbed.caddy import Caddy
from tools.testbed.nginx import Nginx
from tools.testbed.pebble import Pebble
from tools.testbed.stack import ca_and_web
from tools.testbed.hostile import Hostile

# In-process runs of the host CLI start programs as its script does (plugins/lookup/host_cli.py).
commands.use(start_program)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE = os.path.join(ROOT, "build", "integration")
ADDRESS = "127.0.0.2"
ZONE = "zdt.test"
# Names that resolve to nginx for Pebble (challtestsrv) and for this machine (/etc/hosts).
NAMES = ["a", "b", "b2", "key", "force", "hook", "hookfail", "check", "wrongroot", "terms", "badkey", "dirkey", "days",
         "short", "switch", "fallback", "info", "ari", "replaced", "reuse", "revoke", "revokekey", "chain",
         "throttle", "limited", "cliback", "clilimited",
         # Issued by Caddy's ACME server (test_caddy.py).
         "caddy", "caddyforce", "caddyrevoke", "caddyinvalid",
         # Behind the hostile proxy (test_hostile_ca.py), and the dual-stack self-check.
         "hostile", "transient", "ariproxy", "replacesproxy", "dual",
         # A year of cron (test_soak.py).
         "soak-short", "soak-classic",
         # A pool's certificate, issued here and received by a member (test_receive.py).
         "pool",
         # Who may read the key, and combined.pem (test_key_access.py).
         "keygroup", "combined", "badmode",
         # A certificate for a name and an address (test_ip_certificates.py).
         "withip",
         # One renew for many certificates (test_cli_sessions.py).
         *[f"batch{i}" for i in range(1, 9)],
         # Several at once (test_cli_jobs.py).
         *[f"jobs{i}" for i in range(1, 9)], "jobsbad",
         # A host's certificates in one task (test_certificates_module.py).
         "list1", "list2", "list3", "listbad", "listcheck"]
DAY = 86400
# As Let's Encrypt offers them (Pebble's own default stands in for `classic`).
PROFILES = {
    "default": {"description": "90 days", "validityPeriod": 90 * DAY},
    "tlsserver": {"description": "45 days", "validityPeriod": 45 * DAY},
    "shortlived": {"description": "160 hours", "validityPeriod": 160 * 3600},
}
# External account binding keys Pebble knows (kid -> base64url HMAC key); binding stays optional.
EAB_KID = "kid-zdt"
EAB_HMAC_KEY = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
PROXY_PORT = 14010
# Resolves for Pebble only: the module's self-check cannot reach it from here and must just warn.
PEBBLE_ONLY = "hairpin"


def fqdn(label: str) -> str:
    return f"{label}.{ZONE}"


@dataclass
class Testbed:
    pebble: Pebble
    nginx: Nginx
    state: str

    @property
    def webroot(self) -> str:
        return self.nginx.webroot

    def args(self, label: str, **extra) -> dict:
        """Module arguments for a certificate named after `label`, against this Pebble."""
        base = dict(
            domains=[fqdn(label)], webroot=self.webroot, cert_dir=os.path.join(self.state, "live"),
            directory_url=self.pebble.directory_url, ca_bundle=self.pebble.ca_bundle,
            account_key=os.path.join(self.state, "account.pem"), terms_agreed=True,
        )
        base.update(extra)
        return base


def ansible_env() -> dict[str, str]:
    build = os.path.join(ROOT, "build")
    return dict(
        os.environ,
        ANSIBLE_HOME=os.path.join(build, "ansible"),
        ANSIBLE_LOCAL_TEMP=os.path.join(build, "ansible", "tmp"),
        ANSIBLE_REMOTE_TEMP=os.path.join(build, "ansible", "remote-tmp"),
        ANSIBLE_COLLECTIONS_PATH=os.path.join(build, "collections"),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    )


def run_module(args: dict, *, check: bool = False, diff: bool = False,
               module: str = "zerodowntime.acme.certificate", raw: list | None = None) -> dict:
    """Run one module ad hoc on localhost, as `ansible localhost -m MODULE -a ARGS`; return its result
    (and, when `raw` is a list, append ansible's whole output to it)."""
    env = dict(ansible_env(), ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    command = ["ansible", "localhost", "-m", module, "-a", json.dumps(args)]
    command += ["--check"] if check else []
    command += ["--diff"] if diff else []
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if raw is not None:
        raw.append(done.stdout + done.stderr)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"ansible printed no JSON (rc {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return report["plays"][0]["tasks"][0]["hosts"]["localhost"]


def pebble_can_find(serial_hex: str) -> bool:
    """Pebble 2.10 looks a certificate up (ARI renewalInfo, `replaces`) by its serial's shortest
    big-endian bytes, while RFC 9773's certificate ID (here as in certbot's acme) holds the DER form,
    which puts a zero byte before a first byte of 0x80 or more. About 1 in 256 of Pebble's 63-bit
    serials is such a one; Pebble then answers serverInternal, "could not find an order"."""
    return len(serial_hex) % 2 == 1 or serial_hex[0] in "01234567"


def issue_for_ari(testbed: Testbed, label: str, **extra) -> dict:
    """Issue (or keep) the certificate `label`, re-issued until Pebble can find it by its ARI ID, so
    that an ARI test proves the collection's behaviour rather than meet that Pebble limit."""
    result = run_module(testbed.args(label, **extra))
    for _attempt in range(5):
        if result.get("failed") or pebble_can_find(result["serial"]):
            break
        result = run_module(testbed.args(label, **dict(extra, force=True)))
    return result


@pytest.fixture(scope="session")
def testbed():
    shutil.rmtree(STATE, ignore_errors=True)
    os.makedirs(STATE)
    names = [fqdn(label) for label in NAMES]
    with ca_and_web(STATE, ADDRESS, names, pebble_only=(fqdn(PEBBLE_ONLY),), profiles=PROFILES,
                    eab_keys={EAB_KID: EAB_HMAC_KEY}, alternate_roots=1) as (pebble, nginx):
        yield Testbed(pebble, nginx, STATE)


@pytest.fixture(scope="session")
def caddy(testbed):
    """Caddy's ACME server, a second CA; it validates against the same nginx, by /etc/hosts."""
    server = Caddy(os.path.join(testbed.state, "caddy")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def proxy(testbed):
    """A hostile or broken CA: a proxy in front of Pebble that rewrites chosen answers (set its rules)."""
    tls = os.path.join(testbed.pebble.state_dir, "tls")
    hostile = Hostile(upstream=f"https://127.0.0.1:{testbed.pebble.acme_port}", port=PROXY_PORT,
                      cert=os.path.join(tls, "cert.pem"), key=os.path.join(tls, "key.pem"),
                      ca_bundle=testbed.pebble.ca_bundle)
    with hostile:
        yield hostile
